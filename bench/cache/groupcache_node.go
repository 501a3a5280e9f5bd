// A Go groupcache node for bench/cache and tests/cache, built offline in GOPATH mode against
// Debian's golang-github-golang-groupcache-dev.
//
//	node -addr 127.0.0.1:8001 -self http://127.0.0.1:8001 -peers URL,URL,...
//
// The pool is the handler for its own paths (not behind http.ServeMux, which answers 301 to
// keys such as "a//b"). /get?key=K asks the cluster through this node (the front API),
// /loads reports as JSON how often the getter ran per key, /pid identifies the process.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"strings"
	"sync"

	"github.com/golang/groupcache"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8001", "listen address")
	self := flag.String("self", "http://127.0.0.1:8001", "this node's URL, as in -peers")
	peers := flag.String("peers", "", "comma-separated peer URLs")
	name := flag.String("group", "scores", "group name")
	flag.Parse()

	var mu sync.Mutex // guards loads
	loads := map[string]int{}
	group := groupcache.NewGroup(*name, 64<<20, groupcache.GetterFunc(
		func(_ context.Context, key string, dest groupcache.Sink) error {
			mu.Lock()
			loads[key]++
			mu.Unlock()
			return dest.SetString("value-of-" + key)
		}))
	pool := groupcache.NewHTTPPoolOpts(*self, nil)
	pool.Set(strings.Split(*peers, ",")...)

	api := http.NewServeMux()
	api.HandleFunc("/get", func(w http.ResponseWriter, r *http.Request) {
		var v []byte
		sink := groupcache.AllocatingByteSliceSink(&v)
		if err := group.Get(r.Context(), r.URL.Query().Get("key"), sink); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Write(v)
	})
	api.HandleFunc("/pid", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, os.Getpid())
	})
	api.HandleFunc("/loads", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		json.NewEncoder(w).Encode(loads)
	})
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/_groupcache/") {
			pool.ServeHTTP(w, r)
			return
		}
		api.ServeHTTP(w, r)
	})
	log.Fatal(http.ListenAndServe(*addr, handler))
}
