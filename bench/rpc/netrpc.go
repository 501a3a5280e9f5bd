// Go's own net/rpc (gob over TCP), server and client, for bench/rpc: the figure gee.rpc is
// compared with on the same machine. Standard library only; built offline by bench/rpc/golang.py.
//
//	netrpc serve PORT                     serve Echo.Echo on 127.0.0.1:PORT until killed
//	netrpc load PORT INFLIGHT WARMUP SECS one client, INFLIGHT goroutines calling; prints JSON
package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/rpc"
	"os"
	"reflect"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Item is bench/rpc/payload.py's Item.
type Item struct {
	ID    int
	Name  string
	Score float64
	Tags  []string
}

type Echo struct{}

func (Echo) Echo(args *Item, reply *Item) error {
	*reply = *args
	return nil
}

func serve(port string) error {
	if err := rpc.Register(new(Echo)); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:"+port)
	if err != nil {
		return err
	}
	rpc.Accept(ln)
	return nil
}

func load(port string, inflight int, warmup, secs time.Duration) error {
	client, err := rpc.Dial("tcp", "127.0.0.1:"+port)
	if err != nil {
		return err
	}
	defer client.Close()
	var measuring, stopping atomic.Bool
	var mu sync.Mutex
	var latencies []time.Duration
	var failure error
	var wg sync.WaitGroup
	for k := 0; k < inflight; k++ {
		wg.Add(1)
		go func(k int) {
			defer wg.Done()
			sent := Item{ID: k, Name: fmt.Sprintf("caller-%d", k), Score: float64(k) + 0.5,
				Tags: []string{"gee", "rpc"}}
			mine := make([]time.Duration, 0, 1<<16)
			for !stopping.Load() {
				var got Item
				t0 := time.Now()
				if err := client.Call("Echo.Echo", &sent, &got); err != nil || !reflect.DeepEqual(got, sent) {
					mu.Lock()
					failure = fmt.Errorf("sent %+v, got %+v (%v)", sent, got, err)
					mu.Unlock()
					stopping.Store(true)
					return
				}
				if measuring.Load() {
					mine = append(mine, time.Since(t0))
				}
			}
			mu.Lock()
			latencies = append(latencies, mine...)
			mu.Unlock()
		}(k)
	}
	time.Sleep(warmup)
	measuring.Store(true)
	started := time.Now()
	time.Sleep(secs)
	measuring.Store(false)
	elapsed := time.Since(started)
	stopping.Store(true)
	wg.Wait()
	if failure != nil {
		return failure
	}
	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	pct := func(p int) float64 {
		if len(latencies) == 0 {
			return 0
		}
		rank := (len(latencies)*p + 99) / 100
		if rank < 1 {
			rank = 1
		}
		return float64(latencies[rank-1]) / 1e6
	}
	// calls finished after the window closed were not recorded (measuring was false)
	return json.NewEncoder(os.Stdout).Encode(map[string]float64{
		"calls": float64(len(latencies)), "seconds": elapsed.Seconds(),
		"p50_ms": pct(50), "p99_ms": pct(99),
	})
}

func seconds(s string) time.Duration {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	return time.Duration(f * float64(time.Second))
}

func main() {
	var err error
	switch {
	case len(os.Args) == 3 && os.Args[1] == "serve":
		err = serve(os.Args[2])
	case len(os.Args) == 6 && os.Args[1] == "load":
		inflight, convErr := strconv.Atoi(os.Args[3])
		if convErr != nil {
			err = convErr
			break
		}
		err = load(os.Args[2], inflight, seconds(os.Args[4]), seconds(os.Args[5]))
	default:
		err = fmt.Errorf("usage: netrpc serve PORT | netrpc load PORT INFLIGHT WARMUP SECS")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
