package checks

import "testing"

func TestArticle(t *testing.T) {
	for k, want := range map[string]string{
		"OPENSSH PRIVATE KEY": "an", "RSA PRIVATE KEY": "an", "DSA PRIVATE KEY": "a", "EC PRIVATE KEY": "an",
		"ENCRYPTED PRIVATE KEY": "an", "PRIVATE KEY": "a", "PGP PRIVATE KEY": "a", "": "a",
	} {
		if got := article(k); got != want {
			t.Errorf("article(%q) = %q, want %q", k, got, want)
		}
	}
}
