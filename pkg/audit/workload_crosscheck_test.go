package audit_test

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	it "github.com/imgaudit/imgaudit/internal/imagetest"
	"github.com/imgaudit/imgaudit/pkg/audit"
	"github.com/imgaudit/imgaudit/pkg/caps"
	"github.com/imgaudit/imgaudit/pkg/policy"
	"github.com/imgaudit/imgaudit/pkg/report"
	"github.com/imgaudit/imgaudit/pkg/workload"
)

// crossCheckContract is each cross-check's severity and category as issue
// 15's JSON contract and the check catalogue state them, written out here
// so that a change to either is a visible test change.
var crossCheckContract = map[string]struct {
	sev report.Severity
	cat string
}{
	"IW-START-NONNUMERIC-USER":      {report.High, "start-failure"},
	"IW-START-IMAGE-ROOT":           {report.High, "start-failure"},
	"IW-START-RUNASUSER-ROOT":       {report.High, "start-failure"},
	"IW-START-INVALID-UID":          {report.High, "start-failure"},
	"IW-START-FILE-CAPABILITY":      {report.High, "start-failure"},
	"IW-EXEC-FILE-CAPABILITY":       {report.Medium, "capabilities"},
	"IW-FILE-CAPABILITY-NNP":        {report.Low, "capabilities"},
	"IW-EFFECTIVE-ROOT":             {report.Critical, "effective-root"},
	"IW-ROOT-IMAGE":                 {report.High, "effective-root"},
	"IW-UNVERIFIABLE-USER":          {report.Medium, "effective-root"},
	"IW-SETUID-ESCALATION":          {report.High, "privilege-escalation"},
	"IW-FILECAP-ESCALATION":         {report.Medium, "privilege-escalation"},
	"IW-ALLOW-PRIVILEGE-ESCALATION": {report.Low, "privilege-escalation"},
	"IW-CAPS-NOT-DROPPED":           {report.Low, "capabilities"},
	"IW-CAPS-DANGEROUS":             {report.High, "capabilities"},
	"IW-CAPS-UNKNOWN":               {report.Medium, "capabilities"},
	"IW-SECCOMP-UNCONFINED":         {report.Medium, "seccomp"},
	"IW-APPARMOR-UNCONFINED":        {report.Medium, "apparmor"},
	"IW-PRIVILEGED":                 {report.Critical, "host-access"},
	"IW-HOST-NAMESPACE":             {report.High, "host-access"},
	"IW-HOSTPATH":                   {report.High, "host-access"},
	"IW-PROC-UNMASKED":              {report.High, "host-access"},
	"IW-WRITABLE-ROOT":              {report.Low, "read-only-root"},
	"IW-READONLY-IMAGE-VOLUME":      {report.Info, "read-only-root"},
	"IW-SA-TOKEN":                   {report.Low, "service-account-token"},
	"IW-MUTABLE-REFERENCE":          {report.Medium, "mutable-reference"},
}

// wf is an expected workload finding; severity and category come from
// crossCheckContract.
type wf struct {
	ID, Path, Detail string
	Mitigated        bool
}

// xrow is one workload of the table: its manifest and the exact findings
// of each of its containers (a container left out has none).
type xrow struct {
	kind, name string
	manifest   string
	want       map[string][]wf
}

// crossCheckPasswd is every table image's /etc/passwd: "app" resolves to
// uid 1000, "root" to 0, "ghost" to nothing. Their /etc/group has root,
// tty and app (USER app:app needs the group: runc fails without it).
const crossCheckPasswd = "root:x:0:0:root:/root:/sbin/nologin\napp:x:1000:1000::/home/app:/sbin/nologin\n"

// crossCheckImages builds the table's images, each as an OCI layout,
// keyed by the name the manifests use in IMG(name) and TAG(name).
func crossCheckImages(t *testing.T) map[string]v1.Image {
	t.Helper()
	netRaw := string(caps.Encode(caps.FileCaps{Effective: true, Permitted: 1 << 13})) // setcap cap_net_raw+ep
	netRawV3 := string(caps.Encode(caps.FileCaps{Revision: 3, Effective: true, Permitted: 1 << 13, RootID: 100000}))
	base := func(extra ...it.Item) it.LayerStep {
		return it.Step("COPY . /", append([]it.Item{
			it.Text("etc/passwd", crossCheckPasswd),
			it.Text("etc/group", "root:x:0:\ntty:x:5:\napp:x:1000:\n"),
			it.File("app", 0o755, it.ELF("", 0)),
		}, extra...)...)
	}
	app := []string{"/app"}
	specs := map[string]struct {
		cfg   v1.Config
		steps []it.LayerStep
	}{
		// USER numeric and non-root: every check passes under the hardened spec.
		"hardened": {v1.Config{User: "10001", Entrypoint: app}, []it.LayerStep{base()}},
		// No USER: root, as the runtime's default.
		"root": {v1.Config{Entrypoint: app}, []it.LayerStep{base()}},
		// USER root: a name (the kubelet cannot verify it) that resolves to 0.
		"rootname": {v1.Config{User: "root", Entrypoint: app}, []it.LayerStep{base()}},
		// USER app:app: a name that resolves to uid 1000.
		"named": {v1.Config{User: "app:app", Entrypoint: app}, []it.LayerStep{base()}},
		// USER ghost: a name /etc/passwd does not know.
		"ghost": {v1.Config{User: "ghost", Entrypoint: app}, []it.LayerStep{base()}},
		// USER 2147483648: numeric, outside the kubelet's valid range.
		"baduid": {v1.Config{User: "2147483648", Entrypoint: app}, []it.LayerStep{base()}},
		// A setuid-root su and a setgid-tty wall.
		"setuid": {v1.Config{User: "10001", Entrypoint: app}, []it.LayerStep{base(
			it.Owned(it.File("usr/bin/su", 0o4755, it.ELF("", 0)), 0, 0),
			it.Owned(it.File("usr/bin/wall", 0o2755, it.ELF("", 0)), 0, 5))}},
		// The entrypoint carries setcap cap_setuid,cap_dac_override=ep.
		"capentry": {v1.Config{User: "10001", Entrypoint: []string{"/usr/bin/server"}}, []it.LayerStep{base(
			it.Xattr(it.File("usr/bin/server", 0o755, it.ELF("", 0)), caps.XattrName, it.CapSetuidDacOverride))}},
		// Another binary than the entrypoint carries cap_net_raw+ep.
		"capping": {v1.Config{User: "10001", Entrypoint: app}, []it.LayerStep{base(
			it.Xattr(it.File("usr/bin/ping", 0o755, it.ELF("", 0)), caps.XattrName, netRaw))}},
		// cap_net_raw+ep as a revision 3 value bound to the root (uid
		// 100000) of another user namespace.
		"capuserns": {v1.Config{User: "10001", Entrypoint: app}, []it.LayerStep{base(
			it.Xattr(it.File("usr/bin/ping", 0o755, it.ELF("", 0)), caps.XattrName, netRawV3))}},
		// A setuid su and a file-capable ping, then a layer that deletes su
		// and rewrites ping without the attribute: the final filesystem
		// has neither.
		"cleared": {v1.Config{User: "10001", Entrypoint: app}, []it.LayerStep{
			base(it.Owned(it.File("usr/bin/su", 0o4755, it.ELF("", 0)), 0, 0),
				it.Xattr(it.File("usr/bin/ping", 0o755, it.ELF("", 0)), caps.XattrName, netRaw)),
			it.Step("RUN rm /usr/bin/su && setcap -r /usr/bin/ping",
				it.Whiteout("usr/bin/su"), it.File("usr/bin/ping", 0o755, it.ELF("", 0)))}},
		// Two VOLUMEs.
		"volumes": {v1.Config{User: "10001", Entrypoint: app, Volumes: map[string]struct{}{"/data": {}, "/cache/": {}}}, []it.LayerStep{base()}},
	}
	out := map[string]v1.Image{}
	for name, s := range specs {
		img, err := it.Image(s.cfg, s.steps...)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[name] = img
	}
	return out
}

// The hardened spec of the table's pods: each row changes what its check
// needs.
//
//	automountServiceAccountToken: false
//	securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
//	container securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
var crossCheckRows = []xrow{
	{"Pod", "clean", `apiVersion: v1
kind: Pod
metadata: {name: clean}
spec:
  automountServiceAccountToken: false
  securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: app
    image: IMG(hardened)
    securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
`, nil},

	// start-failure
	{"Pod", "start-nonnumeric-user", `apiVersion: v1
kind: Pod
metadata: {name: start-nonnumeric-user}
spec:
  automountServiceAccountToken: false
  securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: app
    image: IMG(named)
    securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
`, map[string][]wf{"app": {{ID: "IW-START-NONNUMERIC-USER", Detail: "container has runAsNonRoot and image has non-numeric user (app), cannot verify user is non-root"}}}},
	{"Pod", "start-nonnumeric-root", `apiVersion: v1
kind: Pod
metadata: {name: start-nonnumeric-root}
spec:
  automountServiceAccountToken: false
  securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: app
    image: IMG(rootname)
    securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
`, map[string][]wf{"app": {{ID: "IW-START-NONNUMERIC-USER", Detail: "container has runAsNonRoot and image has non-numeric user (root), cannot verify user is non-root"}}}},
	{"Deployment", "start-image-root", `apiVersion: apps/v1
kind: Deployment
metadata: {name: start-image-root}
spec:
  selector: {matchLabels: {app: x}}
  template:
    metadata: {labels: {app: x}}
    spec:
      automountServiceAccountToken: false
      securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
      containers:
      - name: app
        image: IMG(root)
        securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
`, map[string][]wf{"app": {{ID: "IW-START-IMAGE-ROOT", Detail: "container has runAsNonRoot and image will run as root"}}}},
	{"Pod", "start-runasuser-root", `apiVersion: v1
kind: Pod
metadata: {name: start-runasuser-root}
spec:
  automountServiceAccountToken: false
  securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: app
    image: IMG(hardened)
    securityContext: {runAsUser: 0, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
`, map[string][]wf{"app": {{ID: "IW-START-RUNASUSER-ROOT", Detail: "container's runAsUser breaks non-root policy"}}}},
	{"Job", "start-invalid-uid", `apiVersion: batch/v1
kind: Job
metadata: {name: start-invalid-uid}
spec:
  template:
    spec:
      restartPolicy: Never
      automountServiceAccountToken: false
      securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
      containers:
      - name: app
        image: IMG(baduid)
        securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
`, map[string][]wf{"app": {{ID: "IW-START-INVALID-UID", Detail: "container has runAsNonRoot and image has an invalid user id (2147483648). (Must be 1-(2147483647))"}}}},
	{"Pod", "start-file-capability", `apiVersion: v1
kind: Pod
metadata: {name: start-file-capability}
spec:
  automountServiceAccountToken: false
  securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: app
    image: IMG(capentry)
    securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
`, map[string][]wf{"app": {{ID: "IW-START-FILE-CAPABILITY", Path: "/usr/bin/server",
		Detail: "exec /usr/bin/server: operation not permitted: its file capabilities CAP_DAC_OVERRIDE,CAP_SETUID (effective) include CAP_DAC_OVERRIDE,CAP_SETUID, outside the container's capability set"}}}},
	// The command names the file-capable binary by name: the runtime finds
	// it on PATH.
	{"Pod", "start-file-capability-command", `apiVersion: v1
kind: Pod
metadata: {name: start-file-capability-command}
spec:
  automountServiceAccountToken: false
  securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: app
    image: IMG(capping)
    command: [ping, -c1, 127.0.0.1]
    securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
`, map[string][]wf{"app": {{ID: "IW-START-FILE-CAPABILITY", Path: "/usr/bin/ping",
		Detail: "exec /usr/bin/ping: operation not permitted: its file capabilities CAP_NET_RAW (effective) include CAP_NET_RAW, outside the container's capability set"}}}},

	// capabilities: file capabilities
	{"Pod", "exec-file-capability", `apiVersion: v1
kind: Pod
metadata: {name: exec-file-capability}
spec:
  automountServiceAccountToken: false
  securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: app
    image: IMG(capping)
    securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
`, map[string][]wf{"app": {{ID: "IW-EXEC-FILE-CAPABILITY", Path: "/usr/bin/ping",
		Detail: "exec /usr/bin/ping: operation not permitted: its file capabilities CAP_NET_RAW (effective) include CAP_NET_RAW, outside the container's capability set"}}}},
	{"Pod", "file-capability-nnp", `apiVersion: v1
kind: Pod
metadata: {name: file-capability-nnp}
spec:
  automountServiceAccountToken: false
  securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: app
    image: IMG(capping)
    securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL], add: [NET_RAW]}}
`, map[string][]wf{"app": {{ID: "IW-FILE-CAPABILITY-NNP", Path: "/usr/bin/ping",
		Detail: "/usr/bin/ping carries CAP_NET_RAW; with no_new_privs a non-root process does not gain them"}}}},
	// A revision 3 value bound to another namespace's root: the kernel
	// ignores it on the host's user namespace...
	{"Pod", "file-capability-other-userns", `apiVersion: v1
kind: Pod
metadata: {name: file-capability-other-userns}
spec:
  automountServiceAccountToken: false
  securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: app
    image: IMG(capuserns)
    securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
`, nil},
	// ...but not necessarily in the pod's own (hostUsers: false).
	{"Pod", "file-capability-pod-userns", `apiVersion: v1
kind: Pod
metadata: {name: file-capability-pod-userns}
spec:
  hostUsers: false
  automountServiceAccountToken: false
  securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: app
    image: IMG(capuserns)
    securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
`, map[string][]wf{"app": {{ID: "IW-EXEC-FILE-CAPABILITY", Path: "/usr/bin/ping",
		Detail: "exec /usr/bin/ping: operation not permitted: its file capabilities CAP_NET_RAW (effective) include CAP_NET_RAW, outside the container's capability set"}}}},

	// privilege-escalation
	{"Pod", "filecap-escalation", `apiVersion: v1
kind: Pod
metadata: {name: filecap-escalation}
spec:
  automountServiceAccountToken: false
  securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: app
    image: IMG(capping)
    securityContext: {readOnlyRootFilesystem: true, capabilities: {drop: [ALL], add: [NET_RAW]}}
`, map[string][]wf{"app": {{ID: "IW-FILECAP-ESCALATION", Path: "/usr/bin/ping",
		Detail: "/usr/bin/ping carries CAP_NET_RAW and privilege escalation is allowed"}}}},
	{"Pod", "setuid-escalation", `apiVersion: v1
kind: Pod
metadata: {name: setuid-escalation}
spec:
  automountServiceAccountToken: false
  securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: app
    image: IMG(setuid)
    securityContext: {readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
`, map[string][]wf{"app": {
		{ID: "IW-SETUID-ESCALATION", Path: "/usr/bin/su", Detail: "/usr/bin/su is setuid and allowPrivilegeEscalation is not false"},
		{ID: "IW-SETUID-ESCALATION", Path: "/usr/bin/wall", Detail: "/usr/bin/wall is setgid and allowPrivilegeEscalation is not false"}}}},
	{"Pod", "setuid-mitigated", `apiVersion: v1
kind: Pod
metadata: {name: setuid-mitigated}
spec:
  automountServiceAccountToken: false
  securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: app
    image: IMG(setuid)
    securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
`, map[string][]wf{"app": {
		{ID: "IW-SETUID-ESCALATION", Path: "/usr/bin/su", Detail: "/usr/bin/su is setuid; allowPrivilegeEscalation: false (no_new_privs) makes the bit inert", Mitigated: true},
		{ID: "IW-SETUID-ESCALATION", Path: "/usr/bin/wall", Detail: "/usr/bin/wall is setgid; allowPrivilegeEscalation: false (no_new_privs) makes the bit inert", Mitigated: true}}}},
	{"Pod", "allow-privilege-escalation", `apiVersion: v1
kind: Pod
metadata: {name: allow-privilege-escalation}
spec:
  automountServiceAccountToken: false
  securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: app
    image: IMG(hardened)
    securityContext: {allowPrivilegeEscalation: true, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
`, map[string][]wf{"app": {{ID: "IW-ALLOW-PRIVILEGE-ESCALATION", Detail: "allowPrivilegeEscalation: true"}}}},
	// The setuid file and the file capability of the lower layer are gone
	// from the final filesystem: only the unset field remains.
	{"Pod", "escalation-cleared-by-later-layer", `apiVersion: v1
kind: Pod
metadata: {name: escalation-cleared-by-later-layer}
spec:
  automountServiceAccountToken: false
  securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: app
    image: IMG(cleared)
    securityContext: {readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
`, map[string][]wf{"app": {{ID: "IW-ALLOW-PRIVILEGE-ESCALATION", Detail: "allowPrivilegeEscalation is not set (the kubelet does not ask for no_new_privs)"}}}},

	// effective-root
	{"Pod", "effective-root-image", `apiVersion: v1
kind: Pod
metadata: {name: effective-root-image}
spec:
  automountServiceAccountToken: false
  securityContext: {seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: app
    image: IMG(root)
    securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
`, map[string][]wf{"app": {{ID: "IW-EFFECTIVE-ROOT", Detail: `image USER "" is root and no runAsUser is set`}}}},
	{"Pod", "effective-root-name", `apiVersion: v1
kind: Pod
metadata: {name: effective-root-name}
spec:
  automountServiceAccountToken: false
  securityContext: {seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: app
    image: IMG(rootname)
    securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
`, map[string][]wf{"app": {{ID: "IW-EFFECTIVE-ROOT", Detail: `image USER "root" is root and no runAsUser is set`}}}},
	{"Pod", "effective-root-runasuser", `apiVersion: v1
kind: Pod
metadata: {name: effective-root-runasuser}
spec:
  automountServiceAccountToken: false
  securityContext: {runAsUser: 0, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: app
    image: IMG(hardened)
    securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
`, map[string][]wf{"app": {{ID: "IW-EFFECTIVE-ROOT", Detail: "runAsUser: 0"}}}},
	{"Deployment", "root-image-mitigated", `apiVersion: apps/v1
kind: Deployment
metadata: {name: root-image-mitigated}
spec:
  selector: {matchLabels: {app: x}}
  template:
    metadata: {labels: {app: x}}
    spec:
      automountServiceAccountToken: false
      securityContext: {runAsNonRoot: true, runAsUser: 10001, seccompProfile: {type: RuntimeDefault}}
      containers:
      - name: app
        image: IMG(root)
        securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
`, map[string][]wf{"app": {{ID: "IW-ROOT-IMAGE", Detail: `image USER "" is root; runAsUser: 10001 overrides it`, Mitigated: true}}}},
	{"Pod", "unverifiable-user", `apiVersion: v1
kind: Pod
metadata: {name: unverifiable-user}
spec:
  automountServiceAccountToken: false
  securityContext: {seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: app
    image: IMG(ghost)
    securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
`, map[string][]wf{"app": {{ID: "IW-UNVERIFIABLE-USER", Detail: `image USER "ghost" is not numeric and was not found in /etc/passwd; no runAsUser`}}}},
	// A name /etc/passwd resolves to a non-root uid is no finding without
	// runAsNonRoot.
	{"Pod", "named-user-resolved", `apiVersion: v1
kind: Pod
metadata: {name: named-user-resolved}
spec:
  automountServiceAccountToken: false
  securityContext: {seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: app
    image: IMG(named)
    securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
`, nil},

	// capabilities as written
	{"Pod", "caps-not-dropped", `apiVersion: v1
kind: Pod
metadata: {name: caps-not-dropped}
spec:
  automountServiceAccountToken: false
  securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: app
    image: IMG(hardened)
    securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [NET_RAW]}}
`, map[string][]wf{"app": {{ID: "IW-CAPS-NOT-DROPPED",
		Detail: "capabilities.drop does not contain ALL; the process keeps CAP_CHOWN,CAP_DAC_OVERRIDE,CAP_FOWNER,CAP_FSETID,CAP_KILL,CAP_SETGID,CAP_SETUID,CAP_SETPCAP,CAP_NET_BIND_SERVICE,CAP_SYS_CHROOT,CAP_MKNOD,CAP_AUDIT_WRITE,CAP_SETFCAP"}}}},
	{"Pod", "caps-dangerous", `apiVersion: v1
kind: Pod
metadata: {name: caps-dangerous}
spec:
  automountServiceAccountToken: false
  securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: app
    image: IMG(hardened)
    securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL], add: [NET_BIND_SERVICE, SYS_ADMIN, sys_ptrace]}}
`, map[string][]wf{"app": {
		{ID: "IW-CAPS-DANGEROUS", Detail: "capabilities.add: CAP_SYS_ADMIN"},
		{ID: "IW-CAPS-DANGEROUS", Detail: "capabilities.add: CAP_SYS_PTRACE"}}}},
	{"Pod", "caps-add-all", `apiVersion: v1
kind: Pod
metadata: {name: caps-add-all}
spec:
  automountServiceAccountToken: false
  securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: app
    image: IMG(hardened)
    securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL], add: [ALL]}}
`, map[string][]wf{"app": {{ID: "IW-CAPS-DANGEROUS", Detail: "capabilities.add: ALL"}}}},
	{"ReplicaSet", "caps-unknown", `apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: caps-unknown}
spec:
  selector: {matchLabels: {app: x}}
  template:
    metadata: {labels: {app: x}}
    spec:
      automountServiceAccountToken: false
      securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
      containers:
      - name: app
        image: IMG(hardened)
        securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL], add: [CAP_NET_BIND_SERVICE]}}
`, map[string][]wf{"app": {{ID: "IW-CAPS-UNKNOWN", Detail: `capability "CAP_NET_BIND_SERVICE" is not a capability name the runtime knows`}}}},

	// seccomp, apparmor
	{"Pod", "seccomp-unset", `apiVersion: v1
kind: Pod
metadata: {name: seccomp-unset}
spec:
  automountServiceAccountToken: false
  securityContext: {runAsNonRoot: true}
  containers:
  - name: app
    image: IMG(hardened)
    securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
`, map[string][]wf{"app": {{ID: "IW-SECCOMP-UNCONFINED", Detail: "no seccompProfile on the container or the pod: Unconfined unless the kubelet runs with --seccomp-default"}}}},
	{"Pod", "seccomp-unconfined", `apiVersion: v1
kind: Pod
metadata: {name: seccomp-unconfined}
spec:
  automountServiceAccountToken: false
  securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: app
    image: IMG(hardened)
    securityContext: {seccompProfile: {type: Unconfined}, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
`, map[string][]wf{"app": {{ID: "IW-SECCOMP-UNCONFINED", Detail: "seccompProfile.type: Unconfined (set on the container)"}}}},
	{"Pod", "apparmor-unconfined", `apiVersion: v1
kind: Pod
metadata: {name: apparmor-unconfined}
spec:
  automountServiceAccountToken: false
  securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}, appArmorProfile: {type: Unconfined}}
  containers:
  - name: app
    image: IMG(hardened)
    securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
  - name: confined
    image: IMG(hardened)
    securityContext: {appArmorProfile: {type: RuntimeDefault}, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
`, map[string][]wf{"app": {{ID: "IW-APPARMOR-UNCONFINED", Detail: "AppArmor profile Unconfined (set by the pod)"}}}},
	{"Pod", "apparmor-annotation", `apiVersion: v1
kind: Pod
metadata:
  name: apparmor-annotation
  annotations: {container.apparmor.security.beta.kubernetes.io/app: unconfined}
spec:
  automountServiceAccountToken: false
  securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: app
    image: IMG(hardened)
    securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
`, map[string][]wf{"app": {{ID: "IW-APPARMOR-UNCONFINED", Detail: "AppArmor profile Unconfined (set by the annotation)"}}}},

	// host-access
	{"DaemonSet", "privileged", `apiVersion: apps/v1
kind: DaemonSet
metadata: {name: privileged}
spec:
  selector: {matchLabels: {app: x}}
  template:
    metadata: {labels: {app: x}}
    spec:
      automountServiceAccountToken: false
      securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
      containers:
      - name: app
        image: IMG(hardened)
        securityContext: {privileged: true, readOnlyRootFilesystem: true}
`, map[string][]wf{"app": {{ID: "IW-PRIVILEGED", Detail: "privileged: true (every capability, every device, no seccomp or AppArmor confinement)"}}}},
	{"DaemonSet", "host-namespace", `apiVersion: apps/v1
kind: DaemonSet
metadata: {name: host-namespace}
spec:
  selector: {matchLabels: {app: x}}
  template:
    metadata: {labels: {app: x}}
    spec:
      hostNetwork: true
      hostPID: true
      hostIPC: true
      automountServiceAccountToken: false
      securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
      containers:
      - name: app
        image: IMG(hardened)
        securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
`, map[string][]wf{"app": {
		{ID: "IW-HOST-NAMESPACE", Detail: "hostNetwork: true"},
		{ID: "IW-HOST-NAMESPACE", Detail: "hostPID: true"},
		{ID: "IW-HOST-NAMESPACE", Detail: "hostIPC: true"}}}},
	{"DaemonSet", "hostpath", `apiVersion: apps/v1
kind: DaemonSet
metadata: {name: hostpath}
spec:
  selector: {matchLabels: {app: x}}
  template:
    metadata: {labels: {app: x}}
    spec:
      automountServiceAccountToken: false
      securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
      volumes:
      - {name: sock, hostPath: {path: /var/run/docker.sock, type: Socket}}
      containers:
      - name: app
        image: IMG(hardened)
        securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
        volumeMounts: [{name: sock, mountPath: /run/docker.sock, readOnly: true}]
`, map[string][]wf{"app": {{ID: "IW-HOSTPATH", Detail: `volume "sock" is hostPath /var/run/docker.sock, mounted at /run/docker.sock read-only`}}}},
	{"Pod", "proc-unmasked", `apiVersion: v1
kind: Pod
metadata: {name: proc-unmasked}
spec:
  hostUsers: false
  automountServiceAccountToken: false
  securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: app
    image: IMG(hardened)
    securityContext: {procMount: Unmasked, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
`, map[string][]wf{"app": {{ID: "IW-PROC-UNMASKED", Detail: "procMount: Unmasked"}}}},

	// read-only-root
	{"ReplicationController", "writable-root", `apiVersion: v1
kind: ReplicationController
metadata: {name: writable-root}
spec:
  template:
    metadata: {labels: {app: x}}
    spec:
      automountServiceAccountToken: false
      securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
      containers:
      - name: app
        image: IMG(hardened)
        securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
`, map[string][]wf{"app": {{ID: "IW-WRITABLE-ROOT", Detail: "readOnlyRootFilesystem is not true"}}}},
	{"StatefulSet", "readonly-image-volume", `apiVersion: apps/v1
kind: StatefulSet
metadata: {name: readonly-image-volume}
spec:
  serviceName: x
  selector: {matchLabels: {app: x}}
  template:
    metadata: {labels: {app: x}}
    spec:
      automountServiceAccountToken: false
      securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
      volumes: [{name: cache, emptyDir: {}}]
      containers:
      - name: app
        image: IMG(volumes)
        securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
        volumeMounts: [{name: cache, mountPath: /cache}]
`, map[string][]wf{"app": {{ID: "IW-READONLY-IMAGE-VOLUME", Path: "/data", Detail: "image VOLUME /data has no volumeMount: the runtime decides whether it is writable"}}}},

	// service-account-token
	{"Pod", "sa-token-default", `apiVersion: v1
kind: Pod
metadata: {name: sa-token-default}
spec:
  securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: app
    image: IMG(hardened)
    securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
`, map[string][]wf{"app": {{ID: "IW-SA-TOKEN", Detail: `automountServiceAccountToken is not set on the pod nor on ServiceAccount "default"`}}}},
	{"Pod", "sa-token-pod", `apiVersion: v1
kind: Pod
metadata: {name: sa-token-pod}
spec:
  automountServiceAccountToken: true
  securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: app
    image: IMG(hardened)
    securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
`, map[string][]wf{"app": {{ID: "IW-SA-TOKEN", Detail: "the pod sets automountServiceAccountToken: true"}}}},
	// The ServiceAccounts are declared in the same input (namespace ci).
	{"Pod", "sa-token-serviceaccount", `apiVersion: v1
kind: ServiceAccount
metadata: {name: builder, namespace: ci}
automountServiceAccountToken: true
---
apiVersion: v1
kind: Pod
metadata: {name: sa-token-serviceaccount, namespace: ci}
spec:
  serviceAccountName: builder
  securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: app
    image: IMG(hardened)
    securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
`, map[string][]wf{"app": {{ID: "IW-SA-TOKEN", Detail: `ServiceAccount "builder" sets automountServiceAccountToken: true`}}}},
	{"Pod", "sa-token-off-by-serviceaccount", `apiVersion: v1
kind: ServiceAccount
metadata: {name: quiet, namespace: ci}
automountServiceAccountToken: false
---
apiVersion: v1
kind: Pod
metadata: {name: sa-token-off-by-serviceaccount, namespace: ci}
spec:
  serviceAccountName: quiet
  securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: app
    image: IMG(hardened)
    securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
`, nil},

	// mutable-reference
	{"CronJob", "mutable-reference", `apiVersion: batch/v1
kind: CronJob
metadata: {name: mutable-reference}
spec:
  schedule: "*/5 * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          automountServiceAccountToken: false
          securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
          containers:
          - name: app
            image: TAG(hardened)
            securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
`, map[string][]wf{"app": {{ID: "IW-MUTABLE-REFERENCE", Detail: "TAG(hardened) names a tag: what runs may differ from what was audited (DIGEST(hardened))"}}}},

	// Every list of containers: the pod-level fields reach init and
	// ephemeral containers too.
	{"Pod", "init-and-ephemeral", `apiVersion: v1
kind: Pod
metadata: {name: init-and-ephemeral}
spec:
  automountServiceAccountToken: false
  securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
  initContainers:
  - name: setup
    image: IMG(setuid)
    securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
  containers:
  - name: app
    image: IMG(hardened)
    securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
  ephemeralContainers:
  - name: debug
    image: IMG(root)
    securityContext: {runAsNonRoot: false}
`, map[string][]wf{
		"setup": {
			{ID: "IW-SETUID-ESCALATION", Path: "/usr/bin/su", Detail: "/usr/bin/su is setuid; allowPrivilegeEscalation: false (no_new_privs) makes the bit inert", Mitigated: true},
			{ID: "IW-SETUID-ESCALATION", Path: "/usr/bin/wall", Detail: "/usr/bin/wall is setgid; allowPrivilegeEscalation: false (no_new_privs) makes the bit inert", Mitigated: true}},
		"debug": {
			{ID: "IW-EFFECTIVE-ROOT", Detail: `image USER "" is root and no runAsUser is set`},
			{ID: "IW-ALLOW-PRIVILEGE-ESCALATION", Detail: "allowPrivilegeEscalation is not set (the kubelet does not ask for no_new_privs)"},
			{ID: "IW-CAPS-NOT-DROPPED", Detail: "capabilities.drop does not contain ALL; the process keeps CAP_CHOWN,CAP_DAC_OVERRIDE,CAP_FOWNER,CAP_FSETID,CAP_KILL,CAP_SETGID,CAP_SETUID,CAP_SETPCAP,CAP_NET_BIND_SERVICE,CAP_NET_RAW,CAP_SYS_CHROOT,CAP_MKNOD,CAP_AUDIT_WRITE,CAP_SETFCAP"},
			{ID: "IW-WRITABLE-ROOT", Detail: "readOnlyRootFilesystem is not true"}}}},
}

// crossCheckRef is the reference a manifest writes for a table image:
// IMG(name) by digest, TAG(name) by tag.
var crossCheckRef = regexp.MustCompile(`(IMG|TAG|DIGEST)\(([a-z]+)\)`)

// TestWorkloadCrossChecks runs every cross-check through the whole path:
// manifests decoded from YAML, images built in the test (USER forms,
// setuid and setgid files, security.capability attributes in PAX records,
// VOLUMEs, entrypoints) and audited from OCI layouts through ImageMap,
// their facts extracted from the audit, and the findings of each container
// compared exactly. Every check of workload.Checks() must fire in some row,
// so a new check without a row fails here.
func TestWorkloadCrossChecks(t *testing.T) {
	images := crossCheckImages(t)
	digest := map[string]string{}
	imageMap := map[string]string{}
	layoutOf := map[string]string{}
	for name, img := range images {
		d, err := img.Digest()
		if err != nil {
			t.Fatal(err)
		}
		digest[name] = d.String()
		layoutOf[name] = "oci:" + it.WriteLayout(t, img)
		imageMap["registry.test/"+name+"@"+d.String()] = layoutOf[name]
		imageMap["registry.test/"+name+":1"] = layoutOf[name]
	}
	expand := func(s string) string {
		return crossCheckRef.ReplaceAllStringFunc(s, func(m string) string {
			p := crossCheckRef.FindStringSubmatch(m)
			switch p[1] {
			case "IMG":
				return "registry.test/" + p[2] + "@" + digest[p[2]]
			case "TAG":
				return "registry.test/" + p[2] + ":1"
			}
			return digest[p[2]]
		})
	}
	var in strings.Builder
	for i, row := range crossCheckRows {
		if i > 0 {
			in.WriteString("---\n")
		}
		in.WriteString(expand(row.manifest))
	}

	var audits atomic.Int32
	o := audit.DefaultOptions()
	o.Progress = func(e audit.Event) {
		if e.Done {
			audits.Add(1)
		}
	}
	r, err := audit.Workloads(context.Background(), []string{"-"}, audit.WorkloadOptions{Stdin: strings.NewReader(in.String()), ImageMap: imageMap}, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Images) != len(images) || int(audits.Load()) != len(images) {
		t.Errorf("%d images in the report, %d audits: want each of the %d images audited once", len(r.Images), audits.Load(), len(images))
	}
	if len(r.Workloads) != len(crossCheckRows) {
		t.Fatalf("%d workloads, want %d", len(r.Workloads), len(crossCheckRows))
	}
	// The gate at its strictest: only unmitigated findings fail.
	policy.Evaluate(r, nil, policy.FailOnInfo, time.Now())

	fired := map[string]bool{}
	for i, row := range crossCheckRows {
		w := r.Workloads[i]
		t.Run(row.name, func(t *testing.T) {
			if w.Kind != row.kind || w.Name != row.name {
				t.Fatalf("workload %d is %s %s, want %s %s", i, w.Kind, w.Name, row.kind, row.name)
			}
			unmitigated := false
			for _, c := range w.Containers {
				if c.Image.Error != "" || !strings.HasPrefix(c.Image.Digest, "sha256:") {
					t.Errorf("%s: image %+v", c.Name, c.Image)
				}
				want := []report.Finding{}
				for _, f := range row.want[c.Name] {
					contract, ok := crossCheckContract[f.ID]
					if !ok {
						t.Fatalf("%s is not in crossCheckContract", f.ID)
					}
					want = append(want, report.Finding{ID: f.ID, Severity: contract.sev, Category: contract.cat,
						Path: f.Path, Detail: expand(f.Detail), Mitigated: f.Mitigated})
				}
				var got []report.Finding
				for _, f := range c.Findings {
					got = append(got, report.Finding{ID: f.ID, Severity: f.Severity, Category: f.Category,
						Path: f.Path, Detail: f.Detail, Mitigated: f.Mitigated})
					fired[f.ID] = true
					unmitigated = unmitigated || !f.Mitigated
					if f.Title == "" || f.Remediation == "" {
						t.Errorf("%s: %s has no title or remediation", c.Name, f.ID)
					}
				}
				if got == nil {
					got = []report.Finding{}
				}
				if d := cmp.Diff(want, got); d != "" {
					t.Errorf("container %s (-want +got):\n%s", c.Name, d)
				}
			}
			for name := range row.want {
				if !slices.ContainsFunc(w.Containers, func(c report.Container) bool { return c.Name == name }) {
					t.Errorf("no container %s", name)
				}
			}
			wantVerdict := report.Pass
			if unmitigated {
				wantVerdict = report.Fail
			}
			if w.Gate == nil || w.Gate.Verdict != wantVerdict {
				t.Errorf("gate %+v, want %s (mitigated findings never fail it)", w.Gate, wantVerdict)
			}
		})
	}

	// Completeness: the rows fire every check of the catalogue, and the
	// catalogue agrees with the contract.
	var catalogue, got []string
	for _, c := range workload.Checks() {
		catalogue = append(catalogue, c.ID)
		if want, ok := crossCheckContract[c.ID]; !ok || want.sev != c.Severity || want.cat != string(c.Category) {
			t.Errorf("%s: catalogue says %s/%s, contract %v", c.ID, c.Severity, c.Category, want)
		}
	}
	for id := range fired {
		got = append(got, id)
	}
	slices.Sort(got)
	if d := cmp.Diff(catalogue, got); d != "" {
		t.Errorf("checks fired by the table (-catalogue +fired): add a row for each missing check:\n%s", d)
	}
	if len(crossCheckContract) != len(catalogue) {
		t.Errorf("crossCheckContract has %d entries, the catalogue %d", len(crossCheckContract), len(catalogue))
	}

	// The image findings behind the mitigated ones are in the images'
	// reports, and fail the images' own gate, not the workloads'.
	imageByLayout := map[string]report.Image{}
	for _, img := range r.Images {
		imageByLayout[img.Reference] = img
	}
	for _, c := range []struct{ image, id, path string }{
		{"root", "IA-ROOT-USER", ""},
		{"setuid", "IA-SETUID", "/usr/bin/su"},
		{"setuid", "IA-SETGID", "/usr/bin/wall"},
		{"capping", "IA-FILE-CAPABILITY", "/usr/bin/ping"},
	} {
		img := imageByLayout[layoutOf[c.image]]
		if !slices.ContainsFunc(img.Findings, func(f report.Finding) bool { return f.ID == c.id && f.Path == c.path }) {
			t.Errorf("image %s: no %s %s in %v", c.image, c.id, c.path, img.Findings)
		}
		if img.Gate == nil || img.Gate.Verdict != report.Fail {
			t.Errorf("image %s: gate %+v, want fail at info", c.image, img.Gate)
		}
	}
	if img := imageByLayout[layoutOf["cleared"]]; slices.ContainsFunc(img.Findings, func(f report.Finding) bool {
		return f.ID == "IA-SETUID" || f.ID == "IA-FILE-CAPABILITY"
	}) {
		t.Errorf("cleared image: %v", img.Findings)
	}
	if r.Gate == nil || r.Gate.Verdict != report.Fail {
		t.Errorf("run gate %+v", r.Gate)
	}
}

// TestWorkloadMitigatedPassesGate: a run whose only findings are mitigated
// (a root image under runAsUser 10001, setuid files under
// allowPrivilegeEscalation: false) passes the strictest gate although its
// images fail their own.
func TestWorkloadMitigatedPassesGate(t *testing.T) {
	images := crossCheckImages(t)
	rootRef := "registry.test/root@sha256:" + strings.Repeat("4", 64)
	setuidRef := "registry.test/setuid@sha256:" + strings.Repeat("6", 64)
	imageMap := map[string]string{
		rootRef:   "oci:" + it.WriteLayout(t, images["root"]),
		setuidRef: "oci:" + it.WriteLayout(t, images["setuid"]),
	}
	manifest := `apiVersion: apps/v1
kind: Deployment
metadata: {name: mitigated}
spec:
  selector: {matchLabels: {app: x}}
  template:
    metadata: {labels: {app: x}}
    spec:
      automountServiceAccountToken: false
      securityContext: {runAsNonRoot: true, runAsUser: 10001, seccompProfile: {type: RuntimeDefault}}
      containers:
      - name: root
        image: ` + rootRef + `
        securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
      - name: setuid
        image: ` + setuidRef + `
        securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
`
	r, err := audit.Workloads(context.Background(), []string{"-"}, audit.WorkloadOptions{Stdin: strings.NewReader(manifest), ImageMap: imageMap}, audit.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	policy.Evaluate(r, nil, policy.FailOnInfo, time.Now())
	var ids []string
	for _, c := range r.Workloads[0].Containers {
		for _, f := range c.Findings {
			if !f.Mitigated {
				t.Errorf("%s: unmitigated %s", c.Name, f.ID)
			}
			ids = append(ids, c.Name+":"+f.ID)
		}
	}
	if want := []string{"root:IW-ROOT-IMAGE", "setuid:IW-SETUID-ESCALATION", "setuid:IW-SETUID-ESCALATION"}; !slices.Equal(ids, want) {
		t.Errorf("findings %v, want %v", ids, want)
	}
	if r.Gate == nil || r.Gate.Verdict != report.Pass || r.Workloads[0].Gate.Verdict != report.Pass {
		t.Errorf("run gate %+v, workload gate %+v: mitigated findings must not fail", r.Gate, r.Workloads[0].Gate)
	}
	for _, img := range r.Images {
		if img.Gate == nil || img.Gate.Verdict != report.Fail {
			t.Errorf("image %s: gate %+v (its own findings fail at info)", img.Reference, img.Gate)
		}
	}
}
