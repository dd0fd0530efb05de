package fetch

import (
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
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

func TestClassify(t *testing.T) {
	if Classify("x", nil) != nil {
		t.Fatal("Classify(nil) != nil")
	}
	cause := kindError(ErrCorrupt, "blob %s is missing", "sha256:00")
	err := Classify("app:1", fmt.Errorf("reading layer: %w", cause))
	if !errors.Is(err, ErrCorrupt) {
		t.Errorf("%v does not wrap ErrCorrupt", err)
	}
	if diff := cmp.Diff("app:1: corrupt image: blob sha256:00 is missing", err.Error()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
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
