package caps

import (
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestDecode(t *testing.T) {
	// Values as setcap(8) writes them (getfattr -e hex -n security.capability).
	tests := []struct {
		name      string
		hex       string
		want      FileCaps
		permitted []string
	}{
		{
			// setcap cap_net_bind_service+ep (libcap writes revision 2)
			name:      "v2 net_bind_service+ep",
			hex:       "0100000200040000000000000000000000000000",
			want:      FileCaps{Revision: 2, Effective: true, Permitted: 1 << 10},
			permitted: []string{"CAP_NET_BIND_SERVICE"},
		},
		{
			name:      "v2 net_raw,net_admin+p",
			hex:       "0000000200300000000000000000000000000000",
			want:      FileCaps{Revision: 2, Permitted: 1<<12 | 1<<13},
			permitted: []string{"CAP_NET_ADMIN", "CAP_NET_RAW"},
		},
		{
			// upper word: CAP_BPF (39) and CAP_PERFMON (38), inheritable CAP_KILL
			name:      "v2 upper word, inheritable",
			hex:       "010000020000000020000000c000000000000000",
			want:      FileCaps{Revision: 2, Effective: true, Permitted: 1<<38 | 1<<39, Inheritable: 1 << 5},
			permitted: []string{"CAP_PERFMON", "CAP_BPF"},
		},
		{
			name:      "v3 with rootid 100000",
			hex:       "0100000300040000000000000000000000000000a0860100",
			want:      FileCaps{Revision: 3, Effective: true, Permitted: 1 << 10, RootID: 100000},
			permitted: []string{"CAP_NET_BIND_SERVICE"},
		},
		{
			name:      "v1",
			hex:       "01000001000400000000000000",
			want:      FileCaps{},
			permitted: nil,
		},
		{
			name:      "v1 exact",
			hex:       "010000010004000000000000",
			want:      FileCaps{Revision: 1, Effective: true, Permitted: 1 << 10},
			permitted: []string{"CAP_NET_BIND_SERVICE"},
		},
		{
			name:      "unknown bit",
			hex:       "0000000200000000000000000000800000000000",
			want:      FileCaps{Revision: 2, Permitted: 1 << 55},
			permitted: []string{"CAP_55"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := hex.DecodeString(tt.hex)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Decode(b)
			if tt.want.Revision == 0 {
				if !errors.Is(err, ErrInvalid) {
					t.Fatalf("Decode = %+v, %v; want ErrInvalid", got, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("Decode = %+v, want %+v", got, tt.want)
			}
			if n := got.Permitted.Names(); !slices.Equal(n, tt.permitted) && len(n)+len(tt.permitted) > 0 {
				t.Fatalf("Permitted.Names = %v, want %v", n, tt.permitted)
			}
			if enc := Encode(got); hex.EncodeToString(enc) != tt.hex {
				t.Fatalf("Encode = %x, want %s", enc, tt.hex)
			}
		})
	}
}

func TestDecodeInvalid(t *testing.T) {
	for _, h := range []string{"", "01", "010000", "0100000400040000000000000000000000000000", "01000002000400000000000000000000", "0100000300040000000000000000000000000000"} {
		b, _ := hex.DecodeString(h)
		if fc, err := Decode(b); !errors.Is(err, ErrInvalid) {
			t.Errorf("Decode(%s) = %+v, %v; want ErrInvalid", h, fc, err)
		}
	}
}

func TestParse(t *testing.T) {
	for in, want := range map[string]int{"NET_BIND_SERVICE": 10, "cap_sys_admin": 21, "CAP_CHECKPOINT_RESTORE": 40, " kill ": 5} {
		if n, ok := Parse(in); !ok || n != want {
			t.Errorf("Parse(%q) = %d, %v; want %d", in, n, ok, want)
		}
	}
	for _, in := range []string{"", "ALL", "CAP_", "NOPE", "CAP_CAP_KILL"} {
		if n, ok := Parse(in); ok {
			t.Errorf("Parse(%q) = %d, want not found", in, n)
		}
	}
	if All.Has(Last+1) || !All.Has(Last) || len(All.Names()) != Last+1 {
		t.Fatalf("All = %v", All.Names())
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte{1, 0, 0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		fc, err := Decode(b)
		if err != nil {
			return
		}
		again, err := Decode(Encode(fc))
		if err != nil || again != fc {
			t.Fatalf("round trip %+v -> %+v, %v", fc, again, err)
		}
	})
}

// TestNames: every capability up to Last has its own CAP_ name, and Parse
// finds each by it.
func TestNames(t *testing.T) {
	seen := map[string]bool{}
	for n := 0; n <= Last; n++ {
		name := Name(n)
		if !strings.HasPrefix(name, "CAP_") || name == fmt.Sprintf("CAP_%d", n) || seen[name] {
			t.Errorf("capability %d is named %q", n, name)
		}
		seen[name] = true
		if got, ok := Parse(name); !ok || got != n {
			t.Errorf("Parse(%q) = %d, %v; want %d", name, got, ok, n)
		}
	}
}
