// Command countproxy is an HTTP reverse proxy on 127.0.0.1 in front of a
// registry that logs every blob download, for fleet benchmarks: one line
// per GET of /v2/NAME/blobs/DIGEST, "NAME DIGEST STATUS BYTES" with the
// bytes actually sent, appended to -log. It writes the port it listens on
// to -port-file and runs until killed.
//
//	go run ./scripts/countproxy -upstream http://127.0.0.1:5000 -log blobs.log -port-file port
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"sync"
)

var blobPath = regexp.MustCompile(`^/v2/(.+)/blobs/(sha256:[0-9a-f]{64})$`)

func main() {
	upstream := flag.String("upstream", "", "registry URL, http://127.0.0.1:PORT")
	logFile := flag.String("log", "", "file the blob downloads are appended to")
	portFile := flag.String("port-file", "", "file the listening port is written to")
	flag.Parse()
	u, err := url.Parse(*upstream)
	if err != nil || *upstream == "" || *logFile == "" || *portFile == "" {
		fmt.Fprintln(os.Stderr, "usage: countproxy -upstream URL -log FILE -port-file FILE")
		os.Exit(2)
	}
	out, err := os.OpenFile(*logFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*portFile, []byte(strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)), 0o644); err != nil {
		log.Fatal(err)
	}
	var mu sync.Mutex
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ModifyResponse = func(r *http.Response) error {
		m := blobPath.FindStringSubmatch(r.Request.URL.Path)
		if r.Request.Method != http.MethodGet || m == nil {
			return nil
		}
		r.Body = &counted{ReadCloser: r.Body, done: func(n int64) {
			mu.Lock()
			defer mu.Unlock()
			fmt.Fprintf(out, "%s %s %d %d\n", m[1], m[2], r.StatusCode, n)
		}}
		return nil
	}
	log.Fatal(http.Serve(ln, rp))
}

// counted counts the bytes read from a body and reports them once, when
// it is closed.
type counted struct {
	io.ReadCloser
	n    int64
	once sync.Once
	done func(int64)
}

func (c *counted) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.n += int64(n)
	return n, err
}

func (c *counted) Close() error {
	c.once.Do(func() { c.done(c.n) })
	return c.ReadCloser.Close()
}
