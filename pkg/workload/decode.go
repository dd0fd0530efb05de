// Package workload reads Kubernetes workloads (the upstream k8s.io/api
// types), computes the effective security context of each container the way
// the kubelet does, evaluates the Pod Security Standards with the upstream
// evaluator, and cross-checks a container's spec against what is known about
// its image (ImageFacts). It does no network I/O and prints nothing.
package workload

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8syaml "sigs.k8s.io/yaml"

	"github.com/imgaudit/imgaudit/pkg/report"
)

// MaxInput is the largest manifest stream Decode reads (bytes).
const MaxInput = 256 << 20

// ContainerType tells which list of the pod spec a container is in.
type ContainerType string

// Container types.
const (
	Regular   ContainerType = "container"
	Init      ContainerType = "init"
	Ephemeral ContainerType = "ephemeral"
)

// Container is one container of a workload's pod template.
type Container struct {
	// Type is the list it is in; Index its position there.
	Type  ContainerType
	Index int
	// Spec is the container as written (an ephemeral container's common
	// fields, converted).
	Spec corev1.Container
	// Line is the 1-based line of the container's entry in File (0 when
	// unknown).
	Line int
}

// Name is the container's name.
func (c *Container) Name() string { return c.Spec.Name }

// Image is the container's image reference as written.
func (c *Container) Image() string { return c.Spec.Image }

// Workload is one object that runs pods: a Pod or the pod template of a
// Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job
// or CronJob.
type Workload struct {
	Kind, APIVersion, Namespace, Name string
	// File is the name given to Decode; Line the 1-based line where the
	// object starts (its document, or its entry in a List).
	File string
	Line int
	// PodMeta and PodSpec are the pod template (the Pod itself for a Pod).
	PodMeta metav1.ObjectMeta
	PodSpec corev1.PodSpec
	// Containers are the init, regular and ephemeral containers, in that
	// order.
	Containers []Container
	// ServiceAccount is the ServiceAccount object the pod runs as when the
	// same input declared it (nil otherwise).
	ServiceAccount *corev1.ServiceAccount
}

// Set is what Decode found.
type Set struct {
	Workloads []*Workload
	// ServiceAccounts declared in the input.
	ServiceAccounts []*corev1.ServiceAccount
	// Skipped counts objects of other kinds, by kind.
	Skipped map[string]int
	// Documents is the number of non-empty documents read.
	Documents int
}

// Merge appends other's contents to s and re-links service accounts.
func (s *Set) Merge(other *Set) {
	s.Workloads = append(s.Workloads, other.Workloads...)
	s.ServiceAccounts = append(s.ServiceAccounts, other.ServiceAccounts...)
	for k, n := range other.Skipped {
		s.Skipped[k] += n
	}
	s.Documents += other.Documents
	s.link()
}

// SkippedKinds lists Skipped most first, then by kind, as the report
// carries it; nil when nothing was skipped.
func (s *Set) SkippedKinds() []report.SkippedKind {
	var out []report.SkippedKind
	for k, n := range s.Skipped {
		if n > 0 {
			out = append(out, report.SkippedKind{Kind: k, Count: n})
		}
	}
	slices.SortFunc(out, func(a, b report.SkippedKind) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return cmp.Compare(a.Kind, b.Kind)
	})
	return out
}

// SyntaxError is a malformed document.
type SyntaxError struct {
	File string
	Line int
	Err  error
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
}

func (e *SyntaxError) Unwrap() error { return e.Err }

// Decode reads Kubernetes objects from r: multi-document YAML (kubectl,
// helm template, kustomize build output) or a stream of JSON values, each
// object possibly a List (kubectl get -o json|yaml). name is what errors and
// Workload.File say. Objects of other kinds are counted in Set.Skipped; a
// document that is not valid YAML/JSON, has no kind, or does not fit the
// API type of its kind is a *SyntaxError naming name and the document's line.
func Decode(ctx context.Context, name string, r io.Reader) (*Set, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxInput+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if len(data) > MaxInput {
		return nil, fmt.Errorf("%s: larger than %d bytes", name, MaxInput)
	}
	d := &decoder{name: name, set: &Set{Skipped: map[string]int{}}}
	docs, err := split(data)
	if err != nil {
		var le *lineError
		if errors.As(err, &le) {
			return nil, &SyntaxError{File: name, Line: le.line, Err: le.err}
		}
		return nil, &SyntaxError{File: name, Line: 1, Err: err}
	}
	for _, doc := range docs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := d.document(doc); err != nil {
			return nil, err
		}
	}
	d.set.link()
	return d.set, nil
}

type document struct {
	data []byte
	line int // 1-based line of data[0] in the file
}

// split cuts a stream into documents: JSON values when it starts with { or
// [, else YAML documents separated by "---" lines (as
// k8s.io/apimachinery/pkg/util/yaml's YAMLReader does).
func split(data []byte) ([]document, error) {
	trimmed := bytes.TrimLeft(data, " \t\r\n\ufeff")
	if len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[') {
		return splitJSON(data)
	}
	var docs []document
	start, startLine, line := 0, 1, 1
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), MaxInput+1)
	sc.Split(scanLinesKeepEOL)
	off := 0
	for sc.Scan() {
		l := sc.Bytes()
		t := strings.TrimRight(string(l), " \t\r\n")
		if t == "---" || strings.HasPrefix(t, "--- ") || t == "..." {
			docs = append(docs, document{data: data[start:off], line: startLine})
			start, startLine = off+len(l), line+1
		}
		off += len(l)
		line++
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	docs = append(docs, document{data: data[start:], line: startLine})
	return docs, nil
}

func scanLinesKeepEOL(data []byte, atEOF bool) (int, []byte, error) {
	if atEOF && len(data) == 0 {
		return 0, nil, nil
	}
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		return i + 1, data[:i+1], nil
	}
	if atEOF {
		return len(data), data, nil
	}
	return 0, nil, nil
}

// lineError is an error at a known line.
type lineError struct {
	line int
	err  error
}

func (e *lineError) Error() string { return fmt.Sprintf("line %d: %v", e.line, e.err) }

func splitJSON(data []byte) ([]document, error) {
	var docs []document
	dec := json.NewDecoder(bytes.NewReader(data))
	for {
		var raw json.RawMessage
		// skip the whitespace between values so the line is the value's own
		start := int(dec.InputOffset())
		for start < len(data) && strings.IndexByte(" \t\r\n", data[start]) >= 0 {
			start++
		}
		line := 1 + bytes.Count(data[:start], []byte("\n"))
		if err := dec.Decode(&raw); err != nil {
			if errors.Is(err, io.EOF) {
				return docs, nil
			}
			return nil, &lineError{line: line, err: err}
		}
		docs = append(docs, document{data: raw, line: line})
	}
}

type decoder struct {
	name string
	set  *Set
}

// typeMeta is what every object has.
type typeMeta struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
}

func (d *decoder) document(doc document) error {
	if t := bytes.TrimLeft(doc.data, " \t\r\n\ufeff"); len(t) > 0 && (t[0] == '{' || t[0] == '[') {
		return d.json(doc)
	}
	var node yaml.Node
	if err := yaml.Unmarshal(doc.data, &node); err != nil {
		return &SyntaxError{File: d.name, Line: doc.line + leadingLines(doc.data), Err: fileLines(err, doc.line)}
	}
	root := docRoot(&node)
	if root == nil {
		return nil // empty or comments only
	}
	// line of the object: the first line of its mapping
	objLine := doc.line + root.Line - 1
	js, err := k8syaml.YAMLToJSON(doc.data)
	if err != nil {
		return &SyntaxError{File: d.name, Line: objLine, Err: err}
	}
	d.set.Documents++
	return d.object(js, root, doc.line, objLine)
}

// json decodes a JSON document: encoding/json decides validity; yaml.v3
// (JSON is YAML) only supplies line numbers, and when it cannot parse the
// text (tab-indented JSON, which YAML forbids) lines are left 0.
func (d *decoder) json(doc document) error {
	if !json.Valid(doc.data) {
		var v any
		err := json.Unmarshal(doc.data, &v)
		return &SyntaxError{File: d.name, Line: doc.line, Err: err}
	}
	var node yaml.Node
	var root *yaml.Node
	if yaml.Unmarshal(doc.data, &node) == nil {
		root = docRoot(&node)
	}
	d.set.Documents++
	return d.object(doc.data, root, doc.line, doc.line)
}

func docRoot(n *yaml.Node) *yaml.Node {
	if n.Kind == 0 || (n.Kind == yaml.DocumentNode && len(n.Content) == 0) {
		return nil
	}
	if n.Kind == yaml.DocumentNode {
		n = n.Content[0]
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	return n
}

// leadingLines counts the blank and comment lines before a document's
// content, so an error names the line where the document starts.
func leadingLines(b []byte) int {
	n := 0
	for len(b) > 0 {
		l, rest, _ := bytes.Cut(b, []byte("\n"))
		t := bytes.TrimSpace(l)
		if len(t) > 0 && t[0] != '#' {
			break
		}
		n, b = n+1, rest
	}
	return n
}

// fileLines rewrites yaml's "line N" (counted from the document, and off by
// one for some parser errors) as "near line M" of the file.
func fileLines(err error, base int) error {
	msg := err.Error()
	i := strings.Index(msg, "line ")
	if i < 0 {
		return err
	}
	var n int
	if _, e := fmt.Sscanf(msg[i:], "line %d", &n); e != nil {
		return err
	}
	num := strconv.Itoa(n)
	return fmt.Errorf("%snear line %d%s", msg[:i], base+n-1, msg[i+len("line ")+len(num):])
}

// object decodes one object (JSON) whose yaml node is n; base is the file
// line of the document's first line (node lines are relative to it).
func (d *decoder) object(js []byte, n *yaml.Node, base, line int) error {
	fail := func(err error) error { return &SyntaxError{File: d.name, Line: line, Err: err} }
	var tm typeMeta
	if err := json.Unmarshal(js, &tm); err != nil {
		return fail(fmt.Errorf("not a Kubernetes object: %w", err))
	}
	if tm.Kind == "" {
		return fail(errors.New("object has no kind"))
	}
	if tm.APIVersion == "" {
		return fail(fmt.Errorf("%s has no apiVersion", tm.Kind))
	}
	strict := func(v any) error {
		if err := json.Unmarshal(js, v); err != nil {
			return fail(fmt.Errorf("%s: %w", tm.Kind, err))
		}
		return nil
	}
	if !builtinGroup(tm.Kind, tm.APIVersion) {
		// a custom resource that reuses a built-in kind's name
		d.set.Skipped[tm.Kind+" ("+tm.APIVersion+")"]++
		return nil
	}
	w := &Workload{Kind: tm.Kind, APIVersion: tm.APIVersion, File: d.name, Line: line}
	var meta metav1.ObjectMeta
	var tmpl *corev1.PodTemplateSpec
	var specPath []string
	switch tm.Kind {
	case "Pod":
		var o corev1.Pod
		if err := strict(&o); err != nil {
			return err
		}
		meta, tmpl, specPath = o.ObjectMeta, &corev1.PodTemplateSpec{ObjectMeta: o.ObjectMeta, Spec: o.Spec}, []string{"spec"}
	case "Deployment":
		var o appsv1.Deployment
		if err := strict(&o); err != nil {
			return err
		}
		meta, tmpl = o.ObjectMeta, &o.Spec.Template
	case "StatefulSet":
		var o appsv1.StatefulSet
		if err := strict(&o); err != nil {
			return err
		}
		meta, tmpl = o.ObjectMeta, &o.Spec.Template
	case "DaemonSet":
		var o appsv1.DaemonSet
		if err := strict(&o); err != nil {
			return err
		}
		meta, tmpl = o.ObjectMeta, &o.Spec.Template
	case "ReplicaSet":
		var o appsv1.ReplicaSet
		if err := strict(&o); err != nil {
			return err
		}
		meta, tmpl = o.ObjectMeta, &o.Spec.Template
	case "ReplicationController":
		var o corev1.ReplicationController
		if err := strict(&o); err != nil {
			return err
		}
		meta, tmpl = o.ObjectMeta, o.Spec.Template
		if tmpl == nil {
			tmpl = &corev1.PodTemplateSpec{}
		}
	case "Job":
		var o batchv1.Job
		if err := strict(&o); err != nil {
			return err
		}
		meta, tmpl = o.ObjectMeta, &o.Spec.Template
	case "CronJob":
		var o batchv1.CronJob
		if err := strict(&o); err != nil {
			return err
		}
		meta, tmpl, specPath = o.ObjectMeta, &o.Spec.JobTemplate.Spec.Template, []string{"spec", "jobTemplate", "spec", "template", "spec"}
	case "ServiceAccount":
		var o corev1.ServiceAccount
		if err := strict(&o); err != nil {
			return err
		}
		d.set.ServiceAccounts = append(d.set.ServiceAccounts, &o)
		return nil
	default:
		if strings.HasSuffix(tm.Kind, "List") {
			return d.list(js, n, base, line, tm.Kind)
		}
		d.set.Skipped[tm.Kind]++
		return nil
	}
	if specPath == nil {
		specPath = []string{"spec", "template", "spec"}
	}
	w.Namespace, w.Name = meta.Namespace, meta.Name
	if w.Name == "" {
		w.Name = meta.GenerateName
	}
	w.PodMeta, w.PodSpec = tmpl.ObjectMeta, tmpl.Spec
	if w.PodMeta.Namespace == "" {
		w.PodMeta.Namespace = w.Namespace
	}
	spec := lookup(n, specPath...)
	lineOf := func(key string, i int) int {
		if s := lookup(spec, key); s != nil && s.Kind == yaml.SequenceNode && i < len(s.Content) {
			return base + s.Content[i].Line - 1
		}
		return 0
	}
	for i, c := range w.PodSpec.InitContainers {
		w.Containers = append(w.Containers, Container{Type: Init, Index: i, Spec: c, Line: lineOf("initContainers", i)})
	}
	for i, c := range w.PodSpec.Containers {
		w.Containers = append(w.Containers, Container{Type: Regular, Index: i, Spec: c, Line: lineOf("containers", i)})
	}
	for i, c := range w.PodSpec.EphemeralContainers {
		w.Containers = append(w.Containers, Container{Type: Ephemeral, Index: i, Spec: corev1.Container(c.EphemeralContainerCommon), Line: lineOf("ephemeralContainers", i)})
	}
	d.set.Workloads = append(d.set.Workloads, w)
	return nil
}

// builtinGroup reports whether apiVersion is in the API group Kubernetes
// serves kind from (any version: older ones such as extensions/v1beta1 and
// apps/v1beta2 share the v1 fields read here). Kinds this package does not
// handle pass.
func builtinGroup(kind, apiVersion string) bool {
	group, _, found := strings.Cut(apiVersion, "/")
	if !found {
		group = ""
	}
	switch kind {
	case "Pod", "ReplicationController", "ServiceAccount":
		return group == ""
	case "Deployment", "DaemonSet", "ReplicaSet":
		return group == "apps" || group == "extensions"
	case "StatefulSet":
		return group == "apps"
	case "Job", "CronJob":
		return group == "batch"
	}
	return true
}

// list decodes the items of a List (kind List or <Kind>List).
func (d *decoder) list(js []byte, n *yaml.Node, base, line int, kind string) error {
	var l struct {
		Items []json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal(js, &l); err != nil {
		return &SyntaxError{File: d.name, Line: line, Err: fmt.Errorf("%s: %w", kind, err)}
	}
	items := lookup(n, "items")
	for i, it := range l.Items {
		var in *yaml.Node
		itemLine := line
		if items != nil && items.Kind == yaml.SequenceNode && i < len(items.Content) {
			in = items.Content[i]
			itemLine = base + in.Line - 1
		}
		if err := d.object(it, in, base, itemLine); err != nil {
			return err
		}
	}
	return nil
}

// lookup follows mapping keys from n (nil when a key is missing).
func lookup(n *yaml.Node, keys ...string) *yaml.Node {
	for _, k := range keys {
		n = deref(n)
		if n == nil || n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				next = n.Content[i+1] // the last one wins, as in JSON
			}
		}
		n = next
	}
	return deref(n)
}

func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 16; i++ {
		n = n.Alias
	}
	return n
}

// link sets each workload's ServiceAccount from the declared ones (the last
// declaration of a namespace/name wins).
func (s *Set) link() {
	ns := func(n string) string {
		if n == "" {
			return "default"
		}
		return n
	}
	byName := make(map[[2]string]*corev1.ServiceAccount, len(s.ServiceAccounts))
	for _, sa := range s.ServiceAccounts {
		byName[[2]string{ns(sa.Namespace), sa.Name}] = sa
	}
	for _, w := range s.Workloads {
		name := w.PodSpec.ServiceAccountName
		if name == "" {
			name = w.PodSpec.DeprecatedServiceAccount
		}
		if name == "" {
			name = "default"
		}
		w.ServiceAccount = byName[[2]string{ns(w.Namespace), name}]
	}
}
