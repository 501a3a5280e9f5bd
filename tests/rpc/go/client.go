// A Go net/rpc/jsonrpc client for gee's interop tests: it calls a gee server and prints one
// JSON line per call ({"call":..., "result":..., "error":...}).
//
// usage: client tcp|http HOST:PORT
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/rpc"
	"net/rpc/jsonrpc"
	"os"
)

type Args struct{ A, B int }
type Quotient struct{ Quo, Rem int }

// dialHTTP is net/rpc's DialHTTPPath with the jsonrpc codec in place of gob.
func dialHTTP(addr string) (*rpc.Client, error) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(conn, "CONNECT %s HTTP/1.0\n\n", rpc.DefaultRPCPath)
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: "CONNECT"})
	if err == nil && resp.Status == "200 Connected to Go RPC" {
		return jsonrpc.NewClient(conn), nil
	}
	if err == nil {
		err = errors.New("unexpected HTTP response: " + resp.Status)
	}
	conn.Close()
	return nil, err
}

func report(call string, result any, err error) {
	line := map[string]any{"call": call, "result": result, "error": nil}
	if err != nil {
		line["error"] = err.Error()
	}
	out, _ := json.Marshal(line)
	fmt.Println(string(out))
}

func main() {
	var client *rpc.Client
	var err error
	if os.Args[1] == "http" {
		client, err = dialHTTP(os.Args[2])
	} else {
		client, err = jsonrpc.Dial("tcp", os.Args[2])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "dial:", err)
		os.Exit(1)
	}
	defer client.Close()

	var product int
	err = client.Call("Arith.Multiply", &Args{7, 8}, &product)
	report("Multiply", product, err)

	var quo Quotient
	err = client.Call("Arith.Divide", &Args{17, 5}, &quo)
	report("Divide", quo, err)

	err = client.Call("Arith.Divide", &Args{1, 0}, &quo)
	report("DivideByZero", nil, err)

	err = client.Call("Arith.Nope", &Args{1, 0}, &product)
	report("Nope", nil, err)

	// 100 concurrent calls on the one connection
	calls := make([]*rpc.Call, 100)
	replies := make([]int, 100)
	for i := range calls {
		calls[i] = client.Go("Arith.Multiply", &Args{i, 3}, &replies[i], nil)
	}
	sum := 0
	for i, call := range calls {
		<-call.Done
		if call.Error != nil {
			report("Concurrent", nil, call.Error)
			return
		}
		sum += replies[i]
	}
	report("Concurrent", sum, nil)
}
