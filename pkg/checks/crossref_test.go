package checks

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	it "github.com/imgaudit/imgaudit/internal/imagetest"
)

// TestOneFindingPerFilePerCause: a file with several causes keeps one
// finding per check, each naming the others in its detail; a file with one
// cause (or whose second cause a later layer removed) and config findings
// name nothing.
func TestOneFindingPerFilePerCause(t *testing.T) {
	img := build(t, zeroConfig,
		it.Step("FROM", append(usrmerge(),
			it.File("usr/bin/su", 0o4755, elf),     // setuid and a privilege tool
			it.File("usr/bin/passwd", 0o4755, elf), // setuid only
			it.File("usr/bin/runuser", 0o755, elf), // a privilege tool only
			it.File("usr/bin/sudo", 0o6755, elf),   // setuid, setgid and a privilege tool
			it.File("usr/bin/chmod", 0o755, elf),
			it.Hardlink("usr/bin/chown", "usr/bin/chmod"),
			it.File("usr/bin/newgrp", 0o4755, elf),
		)...),
		// The bit cleared by a later layer: no setuid finding to refer to.
		it.Step("RUN chmod u-s newgrp", it.File("usr/bin/newgrp", 0o755, elf)),
	)
	fs, err := Run(context.Background(), img, []Check{Setuid(), Setgid(), PrivilegeTool(), PermissionTool(), RootUser()})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, f := range fs {
		k := f.ID + " " + f.Path
		if f.Deleted {
			k += " deleted"
		}
		got[k] = f.Detail
	}
	want := map[string]string{
		"IA-ROOT-USER ":                      got["IA-ROOT-USER "], // about the config: unchanged
		"IA-SETUID /usr/bin/su":              "mode 4755, owner 0:0; also IA-PRIVILEGE-TOOL",
		"IA-PRIVILEGE-TOOL /usr/bin/su":      "also IA-SETUID",
		"IA-SETUID /usr/bin/passwd":          "mode 4755, owner 0:0",
		"IA-PRIVILEGE-TOOL /usr/bin/runuser": "",
		"IA-SETUID /usr/bin/sudo":            "mode 6755, owner 0:0; also IA-PRIVILEGE-TOOL, IA-SETGID",
		"IA-SETGID /usr/bin/sudo":            "mode 6755, owner 0:0; also IA-PRIVILEGE-TOOL, IA-SETUID",
		"IA-PRIVILEGE-TOOL /usr/bin/sudo":    "also IA-SETGID, IA-SETUID",
		// One check, one file: the hardlink is an alias, not a second cause.
		"IA-PERMISSION-TOOL /usr/bin/chmod": "",
		"IA-PRIVILEGE-TOOL /usr/bin/newgrp": "",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("details by finding (-want +got):\n%s", d)
	}
}
