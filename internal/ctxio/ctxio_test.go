package ctxio

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestReaderStopsWhenDone(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	r := Reader(ctx, strings.NewReader("abcdef"))
	buf := make([]byte, 3)
	if n, err := r.Read(buf); n != 3 || err != nil {
		t.Fatalf("read %d, %v", n, err)
	}
	cancel()
	if n, err := r.Read(buf); n != 0 || !errors.Is(err, context.Canceled) {
		t.Fatalf("after cancel: read %d, %v", n, err)
	}
	b, err := io.ReadAll(Reader(context.Background(), strings.NewReader("xyz")))
	if string(b) != "xyz" || err != nil {
		t.Fatalf("ReadAll = %q, %v", b, err)
	}
}
