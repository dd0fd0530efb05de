package oneline

import "testing"

func TestFold(t *testing.T) {
	for in, want := range map[string]string{
		"a\nb\r\n\tc":         "a b c",
		"  plain  ":           "plain",
		"bell\a and \x1b[31m": "bell\uFFFD and \uFFFD[31m",
		"":                    "",
	} {
		if got := Fold(in); got != want {
			t.Errorf("Fold(%q) = %q, want %q", in, got, want)
		}
	}
}
