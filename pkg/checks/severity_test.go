package checks

import (
	"encoding/json"
	"testing"
)

func TestSeverity(t *testing.T) {
	for _, s := range Severities() {
		b, err := s.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var back Severity
		if err := back.UnmarshalText(b); err != nil || back != s {
			t.Errorf("round trip of %v: %v, %v", s, back, err)
		}
		if string(b) != s.String() {
			t.Errorf("MarshalText %q != String %q", b, s)
		}
	}
	if s, err := ParseSeverity(" HIGH "); err != nil || s != High {
		t.Errorf("ParseSeverity(HIGH) = %v, %v", s, err)
	}
	if _, err := ParseSeverity("severe"); err == nil {
		t.Error("ParseSeverity(severe): no error")
	}
	if _, err := Severity(9).MarshalText(); err == nil {
		t.Error("MarshalText(9): no error")
	}
	if Severity(9).String() != "severity(9)" {
		t.Errorf("String(9) = %q", Severity(9).String())
	}
	if !(Info < Low && Low < Medium && Medium < High && High < Critical) {
		t.Error("severities are not ordered")
	}
	b, _ := json.Marshal(struct{ S Severity }{Critical})
	if string(b) != `{"S":"critical"}` {
		t.Errorf("JSON = %s", b)
	}
	var v struct{ S Severity }
	if err := json.Unmarshal([]byte(`{"S":"bogus"}`), &v); err == nil {
		t.Error("unmarshal of a bogus severity: no error")
	}
}
