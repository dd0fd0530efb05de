package fetch

import (
	"strings"
	"testing"
)

func TestSelectTags(t *testing.T) {
	tags := []string{"latest", "1.2.0", "v1.10.0", "1.2.0-rc1", "1.9", "dev", "2.0.0", "abc"}
	for _, tc := range []struct {
		glob   string
		newest int
		want   string
	}{
		{"", 0, "2.0.0 v1.10.0 1.9 1.2.0 1.2.0-rc1 abc dev latest"},
		{"", 3, "2.0.0 v1.10.0 1.9"},
		{"1.*", 0, "1.9 1.2.0 1.2.0-rc1"},
		{"[", 0, ""},
	} {
		if got := strings.Join(SelectTags(tags, tc.glob, tc.newest), " "); got != tc.want {
			t.Errorf("SelectTags(%q, %d) = %s, want %s", tc.glob, tc.newest, got, tc.want)
		}
	}
}
