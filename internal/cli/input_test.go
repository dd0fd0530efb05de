package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imgaudit/imgaudit/internal/cli"
)

// Input mistakes get a one-line error that says what happened, exit 2,
// and no registry lookup: a missing path is a missing file, a URL's
// scheme is understood.
func TestInputMistakes(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "testdata", "images"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"scan", "--no-cache", "testdata/images/nope"},
			"imgaudit: testdata/images/nope: not found: no such file or directory (to read it from a registry, write docker://testdata/images/nope)\n"},
		{[]string{"scan", "--no-cache", "./nope"}, "imgaudit: ./nope: not found: no such file or directory\n"},
		{[]string{"scan", "--no-cache", "testdata/images"},
			"imgaudit: testdata/images: unsupported: testdata/images is neither an OCI image layout directory nor an archive file\n"},
		{[]string{"registry", "--no-cache", "http://registry.invalid:5000"},
			"imgaudit: http://registry.invalid:5000: invalid reference: a plain HTTP registry needs the insecure option (--insecure registry.invalid:5000)\n"},
	} {
		r := runEnv(t, cli.Env{}, tc.args...)
		if r.code != 2 || !strings.HasSuffix(r.stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
}
