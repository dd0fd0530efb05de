package audit

import (
	"strings"
	"testing"
)

func TestSelectTags(t *testing.T) {
	tags := []string{"latest", "1.2.0", "v1.10.0", "1.2.0-rc1", "1.9", "dev", "2.0.0", "abc"}
	for _, tc := range []struct {
		ro   RegistryOptions
		want string
	}{
		{RegistryOptions{}, "2.0.0 v1.10.0 1.9 1.2.0 1.2.0-rc1 abc dev latest"},
		{RegistryOptions{MaxTags: 3}, "2.0.0 v1.10.0 1.9"},
		{RegistryOptions{TagGlob: "1.*"}, "1.9 1.2.0 1.2.0-rc1"},
	} {
		if got := strings.Join(selectTags(tags, tc.ro), " "); got != tc.want {
			t.Errorf("selectTags(%+v) = %s, want %s", tc.ro, got, tc.want)
		}
	}
}
