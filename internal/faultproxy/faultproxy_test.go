package faultproxy

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestFaults(t *testing.T) {
	body := strings.Repeat("0123456789", 1000)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/redirect" {
			http.Redirect(w, r, "http://"+r.Host+"/blob", http.StatusTemporaryRedirect)
			return
		}
		io.WriteString(w, body)
	}))
	defer up.Close()
	p := New(t, up.URL, nil)
	tr := &http.Transport{Proxy: nil, DisableKeepAlives: true}
	client := &http.Client{Transport: tr, Timeout: 2 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path string, auth string) (int, string, http.Header, error) {
		req, _ := http.NewRequest("GET", p.URL+path, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, "", nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header, err
	}

	if code, b, _, err := get("/blob", ""); err != nil || code != 200 || b != body {
		t.Fatalf("pass-through: %d %v", code, err)
	}
	p.Set(Fault{Kind: Status, Code: 429, Header: map[string]string{"Retry-After": "3"}, Times: 1, Path: "/blob"})
	if code, _, h, _ := get("/blob", ""); code != 429 || h.Get("Retry-After") != "3" {
		t.Errorf("429: %d %v", code, h)
	}
	if code, _, _, _ := get("/blob", ""); code != 200 {
		t.Errorf("after Times: %d", code)
	}
	p.Set(Fault{Kind: Status, Code: 500, Body: `{"echo":"` + AuthPlaceholder + `"}`})
	if _, b, _, _ := get("/x", "Basic c2VjcmV0"); !strings.Contains(b, "Basic c2VjcmV0") {
		t.Errorf("echo: %q", b)
	}
	p.Set(Fault{Kind: Truncate, N: 100})
	if _, b, _, err := get("/blob", ""); !errors.Is(err, io.ErrUnexpectedEOF) || len(b) != 100 {
		t.Errorf("truncate: %d bytes, %v", len(b), err)
	}
	p.Set(Fault{Kind: Reset, N: 100})
	if _, _, _, err := get("/blob", ""); err == nil || !(errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.ErrUnexpectedEOF)) {
		t.Errorf("reset: %v", err)
	}
	p.Set(Fault{Kind: Drop})
	if _, _, _, err := get("/blob", ""); err == nil {
		t.Error("drop: no error")
	}
	p.Set(Fault{Kind: Corrupt})
	if _, b, _, err := get("/blob", ""); err != nil || len(b) != len(body) || b == body {
		t.Errorf("corrupt: %d bytes, same=%v, %v", len(b), b == body, err)
	}
	p.Set(Fault{Kind: Stall, Delay: 5 * time.Second})
	client.Timeout = 200 * time.Millisecond
	start := time.Now()
	if _, _, _, err := get("/blob", ""); err == nil || time.Since(start) > time.Second {
		t.Errorf("stall: %v after %s", err, time.Since(start))
	}
	client.Timeout = 2 * time.Second
	p.Set(Fault{Kind: Slow, N: 2500, Delay: 20 * time.Millisecond})
	start = time.Now()
	if _, b, _, err := get("/blob", ""); err != nil || b != body || time.Since(start) < 60*time.Millisecond {
		t.Errorf("slow: %v after %s", err, time.Since(start))
	}
	p.Set()
	if code, _, h, _ := get("/redirect", ""); code != 307 || !strings.HasPrefix(h.Get("Location"), "http://127.0.0.1") {
		t.Errorf("redirect: %d %v", code, h.Get("Location"))
	}
	if n := p.Count("GET", "/blob"); n < 9 {
		t.Errorf("Count = %d", n)
	}
	if n := p.Faulted(Truncate); n != 1 {
		t.Errorf("Faulted(Truncate) = %d", n)
	}
	if p.Served("/blob") == 0 {
		t.Error("Served = 0")
	}
}
