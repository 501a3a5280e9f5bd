// A Go net/rpc server for gee's interop tests: Arith from Go's documentation, served with
// the jsonrpc codec on a raw TCP port and, over HTTP CONNECT, on a second port; and with gob
// through net/rpc's own rpc.HandleHTTP on a third.
//
// usage: server   (prints "tcp=ADDR http=ADDR gob=ADDR" once listening, serves until killed)
package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/rpc"
	"net/rpc/jsonrpc"
	"os"
	"time"
)

type Args struct{ A, B int }
type Quotient struct{ Quo, Rem int }
type Arith int

func (t *Arith) Multiply(args *Args, reply *int) error {
	*reply = args.A * args.B
	return nil
}

func (t *Arith) Divide(args *Args, quo *Quotient) error {
	if args.B == 0 {
		return errors.New("divide by zero")
	}
	quo.Quo = args.A / args.B
	quo.Rem = args.A % args.B
	return nil
}

// Sleep answers after A milliseconds with B: replies leave in completion order.
func (t *Arith) Sleep(args *Args, reply *int) error {
	time.Sleep(time.Duration(args.A) * time.Millisecond)
	*reply = args.B
	return nil
}

// connectHandler is net/rpc's ServeHTTP with the jsonrpc codec in place of gob.
type connectHandler struct{}

func (connectHandler) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method != "CONNECT" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusMethodNotAllowed)
		io.WriteString(w, "405 must CONNECT\n")
		return
	}
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		return
	}
	io.WriteString(conn, "HTTP/1.0 200 Connected to Go RPC\n\n")
	jsonrpc.ServeConn(conn)
}

func main() {
	if err := rpc.Register(new(Arith)); err != nil {
		panic(err)
	}
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	web, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle(rpc.DefaultRPCPath, connectHandler{})
	go http.Serve(web, mux)
	gob, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	rpc.HandleHTTP() // gob on /_goRPC_ of http.DefaultServeMux
	go http.Serve(gob, nil)
	fmt.Printf("tcp=%s http=%s gob=%s\n", tcp.Addr(), web.Addr(), gob.Addr())
	os.Stdout.Sync()
	for {
		conn, err := tcp.Accept()
		if err != nil {
			return
		}
		go jsonrpc.ServeConn(conn)
	}
}
