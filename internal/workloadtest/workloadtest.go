// Package workloadtest is the table of imgaudit workload's cross-checks
// that the tests of pkg/audit and internal/cli share: images built entry by
// entry, pod specs, and the exact findings each container must get.
package workloadtest

import (
	"fmt"
	"regexp"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	it "github.com/imgaudit/imgaudit/internal/imagetest"
	"github.com/imgaudit/imgaudit/pkg/caps"
	"github.com/imgaudit/imgaudit/pkg/report"
)

// Contract is each cross-check's severity and category as issue 15's JSON
// contract and the check catalogue state them, written out so that a
// change to either is a visible test change.
func Contract() map[string]Class {
	return map[string]Class{
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
}

// Class is a check's severity and category.
type Class struct {
	Severity report.Severity
	Category string
}

// Finding is an expected workload finding; its severity and category are
// the Contract's. Detail may name images as a manifest does (see Refs).
type Finding struct {
	ID, Path, Detail string
	Mitigated        bool
}

// Row is one workload of the table: its kind and name, its manifest (one
// workload, maybe with the ServiceAccount it runs as; IMG(image) and
// TAG(image) stand for references, see Refs) and the exact findings of each
// of its containers, in the order pkg/workload.CrossCheck reports them (a
// container left out has none).
type Row struct {
	Kind, Name string
	Manifest   string
	Want       map[string][]Finding
}

// passwd is every table image's /etc/passwd: "app" resolves to
// uid 1000, "root" to 0, "ghost" to nothing. Their /etc/group has root,
// tty and app (USER app:app needs the group: runc fails without it).
const passwd = "root:x:0:0:root:/root:/sbin/nologin\napp:x:1000:1000::/home/app:/sbin/nologin\n"

// Images builds the table's images, keyed by the name the manifests use in
// IMG(name) and TAG(name).
func Images() (map[string]v1.Image, error) {
	netRaw := string(caps.Encode(caps.FileCaps{Effective: true, Permitted: 1 << 13})) // setcap cap_net_raw+ep
	netRawV3 := string(caps.Encode(caps.FileCaps{Revision: 3, Effective: true, Permitted: 1 << 13, RootID: 100000}))
	base := func(extra ...it.Item) it.LayerStep {
		return it.Step("COPY . /", append([]it.Item{
			it.Text("etc/passwd", passwd),
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
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out[name] = img
	}
	return out, nil
}

// Rows is the table: together the rows fire every check of
// pkg/workload.Checks(). Each starts from the hardened spec, which no check
// faults with the hardened image, and changes what its check needs:
//
//	automountServiceAccountToken: false
//	securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
//	container securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
func Rows() []Row {
	return []Row{
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
`, map[string][]Finding{"app": {{ID: "IW-START-NONNUMERIC-USER", Detail: "container has runAsNonRoot and image has non-numeric user (app), cannot verify user is non-root"}}}},
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
`, map[string][]Finding{"app": {{ID: "IW-START-NONNUMERIC-USER", Detail: "container has runAsNonRoot and image has non-numeric user (root), cannot verify user is non-root"}}}},
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
`, map[string][]Finding{"app": {{ID: "IW-START-IMAGE-ROOT", Detail: "container has runAsNonRoot and image will run as root"}}}},
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
`, map[string][]Finding{"app": {{ID: "IW-START-RUNASUSER-ROOT", Detail: "container's runAsUser breaks non-root policy"}}}},
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
`, map[string][]Finding{"app": {{ID: "IW-START-INVALID-UID", Detail: "container has runAsNonRoot and image has an invalid user id (2147483648). (Must be 1-(2147483647))"}}}},
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
`, map[string][]Finding{"app": {{ID: "IW-START-FILE-CAPABILITY", Path: "/usr/bin/server",
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
`, map[string][]Finding{"app": {{ID: "IW-START-FILE-CAPABILITY", Path: "/usr/bin/ping",
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
`, map[string][]Finding{"app": {{ID: "IW-EXEC-FILE-CAPABILITY", Path: "/usr/bin/ping",
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
`, map[string][]Finding{"app": {{ID: "IW-FILE-CAPABILITY-NNP", Path: "/usr/bin/ping",
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
`, map[string][]Finding{"app": {{ID: "IW-EXEC-FILE-CAPABILITY", Path: "/usr/bin/ping",
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
`, map[string][]Finding{"app": {{ID: "IW-FILECAP-ESCALATION", Path: "/usr/bin/ping",
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
`, map[string][]Finding{"app": {
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
`, map[string][]Finding{"app": {
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
`, map[string][]Finding{"app": {{ID: "IW-ALLOW-PRIVILEGE-ESCALATION", Detail: "allowPrivilegeEscalation: true"}}}},
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
`, map[string][]Finding{"app": {{ID: "IW-ALLOW-PRIVILEGE-ESCALATION", Detail: "allowPrivilegeEscalation is not set (the kubelet does not ask for no_new_privs)"}}}},

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
`, map[string][]Finding{"app": {{ID: "IW-EFFECTIVE-ROOT", Detail: `image USER "" is root and no runAsUser is set`}}}},
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
`, map[string][]Finding{"app": {{ID: "IW-EFFECTIVE-ROOT", Detail: `image USER "root" is root and no runAsUser is set`}}}},
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
`, map[string][]Finding{"app": {{ID: "IW-EFFECTIVE-ROOT", Detail: "runAsUser: 0"}}}},
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
`, map[string][]Finding{"app": {{ID: "IW-ROOT-IMAGE", Detail: `image USER "" is root; runAsUser: 10001 overrides it`, Mitigated: true}}}},
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
`, map[string][]Finding{"app": {{ID: "IW-UNVERIFIABLE-USER", Detail: `image USER "ghost" could not be resolved to a uid (a name missing from /etc/passwd, or a group missing from /etc/group); no runAsUser`}}}},
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
`, map[string][]Finding{"app": {{ID: "IW-CAPS-NOT-DROPPED",
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
`, map[string][]Finding{"app": {
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
`, map[string][]Finding{"app": {{ID: "IW-CAPS-DANGEROUS", Detail: "capabilities.add: ALL"}}}},
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
`, map[string][]Finding{"app": {{ID: "IW-CAPS-UNKNOWN", Detail: `capability "CAP_NET_BIND_SERVICE" is not a capability name the runtime knows`}}}},

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
`, map[string][]Finding{"app": {{ID: "IW-SECCOMP-UNCONFINED", Detail: "no seccompProfile on the container or the pod: Unconfined unless the kubelet runs with --seccomp-default"}}}},
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
`, map[string][]Finding{"app": {{ID: "IW-SECCOMP-UNCONFINED", Detail: "seccompProfile.type: Unconfined (set on the container)"}}}},
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
`, map[string][]Finding{"app": {{ID: "IW-APPARMOR-UNCONFINED", Detail: "AppArmor profile Unconfined (set by the pod)"}}}},
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
`, map[string][]Finding{"app": {{ID: "IW-APPARMOR-UNCONFINED", Detail: "AppArmor profile Unconfined (set by the annotation)"}}}},

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
`, map[string][]Finding{"app": {{ID: "IW-PRIVILEGED", Detail: "privileged: true (every capability, every device, no seccomp or AppArmor confinement)"}}}},
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
`, map[string][]Finding{"app": {
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
`, map[string][]Finding{"app": {{ID: "IW-HOSTPATH", Detail: `volume "sock" is hostPath /var/run/docker.sock, mounted at /run/docker.sock read-only`}}}},
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
`, map[string][]Finding{"app": {{ID: "IW-PROC-UNMASKED", Detail: "procMount: Unmasked"}}}},

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
`, map[string][]Finding{"app": {{ID: "IW-WRITABLE-ROOT", Detail: "readOnlyRootFilesystem is not true"}}}},
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
`, map[string][]Finding{"app": {{ID: "IW-READONLY-IMAGE-VOLUME", Path: "/data", Detail: "image VOLUME /data has no volumeMount: the runtime decides whether it is writable"}}}},

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
`, map[string][]Finding{"app": {{ID: "IW-SA-TOKEN", Detail: `automountServiceAccountToken is not set on the pod nor on ServiceAccount "default"`}}}},
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
`, map[string][]Finding{"app": {{ID: "IW-SA-TOKEN", Detail: "the pod sets automountServiceAccountToken: true"}}}},
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
`, map[string][]Finding{"app": {{ID: "IW-SA-TOKEN", Detail: `ServiceAccount "builder" sets automountServiceAccountToken: true`}}}},
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
`, map[string][]Finding{"app": {{ID: "IW-MUTABLE-REFERENCE", Detail: "TAG(hardened) names a tag: what runs may differ from what was audited (DIGEST(hardened))"}}}},

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
`, map[string][]Finding{
			"setup": {
				{ID: "IW-SETUID-ESCALATION", Path: "/usr/bin/su", Detail: "/usr/bin/su is setuid; allowPrivilegeEscalation: false (no_new_privs) makes the bit inert", Mitigated: true},
				{ID: "IW-SETUID-ESCALATION", Path: "/usr/bin/wall", Detail: "/usr/bin/wall is setgid; allowPrivilegeEscalation: false (no_new_privs) makes the bit inert", Mitigated: true}},
			"debug": {
				{ID: "IW-EFFECTIVE-ROOT", Detail: `image USER "" is root and no runAsUser is set`},
				{ID: "IW-ALLOW-PRIVILEGE-ESCALATION", Detail: "allowPrivilegeEscalation is not set (the kubelet does not ask for no_new_privs)"},
				{ID: "IW-CAPS-NOT-DROPPED", Detail: "capabilities.drop does not contain ALL; the process keeps CAP_CHOWN,CAP_DAC_OVERRIDE,CAP_FOWNER,CAP_FSETID,CAP_KILL,CAP_SETGID,CAP_SETUID,CAP_SETPCAP,CAP_NET_BIND_SERVICE,CAP_NET_RAW,CAP_SYS_CHROOT,CAP_MKNOD,CAP_AUDIT_WRITE,CAP_SETFCAP"},
				{ID: "IW-WRITABLE-ROOT", Detail: "readOnlyRootFilesystem is not true"}}}},
	}
}

// Refs says what IMG(name), TAG(name) and DIGEST(name) in a manifest or a
// detail stand for: Repo/name@digest, Repo/name:1 and the digest.
type Refs struct {
	// Repo is the repository prefix, such as registry.test or
	// 127.0.0.1:5000/wl.
	Repo string
	// Digests are the images' digests by name.
	Digests map[string]string
}

var placeholder = regexp.MustCompile(`(IMG|TAG|DIGEST)\(([a-z]+)\)`)

// Digest is the reference of image name by digest.
func (r Refs) Digest(name string) string { return r.Repo + "/" + name + "@" + r.Digests[name] }

// Tag is the reference of image name by its tag "1".
func (r Refs) Tag(name string) string { return r.Repo + "/" + name + ":1" }

// Expand replaces the placeholders in s.
func (r Refs) Expand(s string) string {
	return placeholder.ReplaceAllStringFunc(s, func(m string) string {
		p := placeholder.FindStringSubmatch(m)
		switch p[1] {
		case "IMG":
			return r.Digest(p[2])
		case "TAG":
			return r.Tag(p[2])
		}
		return r.Digests[p[2]]
	})
}

// Manifests is the rows' manifests as one multi-document stream.
func (r Refs) Manifests(rows []Row) string {
	docs := make([]string, len(rows))
	for i, row := range rows {
		docs[i] = r.Expand(row.Manifest)
	}
	return strings.Join(docs, "---\n")
}

// Want is the findings container must get in row, as the report writes
// them (ID, severity, category, path, detail, mitigated); never nil.
func (r Refs) Want(row Row, container string) ([]report.Finding, error) {
	out := []report.Finding{}
	contract := Contract()
	for _, f := range row.Want[container] {
		c, ok := contract[f.ID]
		if !ok {
			return nil, fmt.Errorf("%s is not in the contract", f.ID)
		}
		out = append(out, report.Finding{ID: f.ID, Severity: c.Severity, Category: c.Category,
			Path: f.Path, Detail: r.Expand(f.Detail), Mitigated: f.Mitigated})
	}
	return out, nil
}

// Compared is f reduced to what Want states.
func Compared(f report.Finding) report.Finding {
	return report.Finding{ID: f.ID, Severity: f.Severity, Category: f.Category, Path: f.Path, Detail: f.Detail, Mitigated: f.Mitigated}
}
