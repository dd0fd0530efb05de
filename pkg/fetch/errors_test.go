package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func TestSanitize(t *testing.T) {
	tests := []struct {
		name    string
		msg     string
		secrets []string
		want    string
	}{
		{"multi-line", "a\nb\r\n\tc", nil, "a b c"},
		{"password", "bad password hunter22 here", []string{"hunter22"}, "bad password [redacted] here"},
		{"basic header", "Authorization: Basic YWxpY2U6aHVudGVyMjI=", []string{"alice:hunter22"}, "Authorization: Basic [redacted]"},
		{"presigned url", `Get "https://cdn.example.com/blob?X-Amz-Signature=abc&x=1": EOF`, nil, `Get "https://cdn.example.com/blob?[redacted]": EOF`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, sanitize(tc.msg, tc.secrets)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// failingLayer is a layer whose blob reader fails with err after its first
// bytes.
type failingLayer struct {
	v1.Layer
	err error
}

func (l failingLayer) Compressed() (io.ReadCloser, error) {
	return io.NopCloser(io.MultiReader(strings.NewReader("abc"), iotest.ErrReader(l.err))), nil
}

type failingImage struct {
	v1.Image
	err error
}

func (i failingImage) Layers() ([]v1.Layer, error) {
	ls, err := i.Image.Layers()
	for n := range ls {
		ls[n] = failingLayer{ls[n], i.err}
	}
	return ls, err
}

// TestClassifiedImage: errors met while reading an image after Open are
// classified and scrubbed where they happen, by the image the Target hands
// out; io.EOF stays io.EOF.
func TestClassifiedImage(t *testing.T) {
	base := randomImage(t, 1, amd64)
	secrets := func() []string { return []string{"hunter22"} }
	for _, tc := range []struct {
		name string
		err  error
		kind error
		want string
	}{
		{"sentinel below a wrapper", fmt.Errorf("reading: %w", kindError(ErrCorrupt, "blob %s is missing", "sha256:00")), ErrCorrupt, "corrupt image: blob sha256:00 is missing"},
		{"deadline", context.DeadlineExceeded, ErrTimeout, "timeout: context deadline exceeded"},
		{"secret in the cause", errors.New("backend said\npassword hunter22"), nil, "backend said password [redacted]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ls, err := classifyImage(failingImage{base, tc.err}, secrets).Layers()
			if err != nil {
				t.Fatal(err)
			}
			rc, err := ls[0].Compressed()
			if err != nil {
				t.Fatal(err)
			}
			_, err = io.ReadAll(rc)
			want := tc.kind
			if want == nil {
				want = tc.err
			}
			var fe *Error
			if !errors.As(err, &fe) || !errors.Is(err, want) {
				t.Fatalf("err = %#v, want an *Error wrapping %v", err, want)
			}
			if diff := cmp.Diff(tc.want, err.Error()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	ls, err := classifyImage(base, secrets).Layers()
	if err != nil {
		t.Fatal(err)
	}
	rc, err := ls[0].Compressed()
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1<<20)
	for err == nil {
		_, err = rc.Read(buf)
	}
	if err != io.EOF {
		t.Errorf("end of blob: %v, want io.EOF itself", err)
	}
}

func TestParsePlatform(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr bool
	}{
		{"linux/amd64", "linux/amd64", false},
		{"linux/arm/v7", "linux/arm/v7", false},
		{"windows/amd64", "windows/amd64", false},
		{"linux", "", true},
		{"linux/", "", true},
		{"/amd64", "", true},
		{"linux/arm/v7/extra", "", true},
		{"Linux/AMD64", "", true},
		{"", "", true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			p, err := ParsePlatform(tc.in)
			if tc.wantErr {
				if !errors.Is(err, ErrInvalidOption) {
					t.Fatalf("err = %v, want ErrInvalidOption", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := formatPlatform(p); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}
