package policy

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Parse parses a policy file's contents; name is used in errors.
func Parse(name string, data []byte) (*Policy, error) {
	p := &Policy{File: name}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, &Error{File: name, Msg: strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return p, nil // empty file: an empty policy
	}
	d := decoder{file: name}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return p, nil
	}
	err := d.mapping(root, "", map[string]func(k, v *yaml.Node) error{
		"version": func(_, v *yaml.Node) error {
			s, err := d.scalar(v, "version")
			if err != nil {
				return err
			}
			if s != "1" {
				return d.errf(v, "version", "unsupported version %q (this imgaudit reads version 1)", s)
			}
			return nil
		},
		"fail-on": func(_, v *yaml.Node) error {
			s, err := d.scalar(v, "fail-on")
			if err != nil {
				return err
			}
			t, err := ParseThreshold(s)
			if err != nil {
				return d.errf(v, "fail-on", "%v", err)
			}
			p.FailOn = &t
			return nil
		},
		"profile": func(_, v *yaml.Node) error {
			s, err := d.scalar(v, "profile")
			if err != nil {
				return err
			}
			p.Profile, p.ProfileLine = strings.ToLower(strings.TrimSpace(s)), v.Line
			return nil
		},
		"disable": func(_, v *yaml.Node) error {
			return d.mapping(v, "disable", map[string]func(k, v *yaml.Node) error{
				"checks": func(_, v *yaml.Node) (err error) {
					p.DisabledChecks, err = d.strings(v, "disable.checks")
					return err
				},
				"categories": func(_, v *yaml.Node) (err error) {
					p.DisabledCategories, err = d.strings(v, "disable.categories")
					return err
				},
			})
		},
		"ignore": func(_, v *yaml.Node) error {
			if v.Kind != yaml.SequenceNode {
				return d.errf(v, "ignore", "want a list of ignores, got %s", kindName(v))
			}
			for i, item := range v.Content {
				ig, err := d.ignore(item, fmt.Sprintf("ignore[%d]", i))
				if err != nil {
					return err
				}
				p.Ignores = append(p.Ignores, ig)
			}
			return nil
		},
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

type decoder struct{ file string }

func (d decoder) errf(n *yaml.Node, field, format string, args ...any) error {
	return &Error{File: d.file, Line: n.Line, Field: field, Msg: fmt.Sprintf(format, args...)}
}

// mapping walks a mapping node, calling the handler of each key; unknown
// and repeated keys are errors.
func (d decoder) mapping(n *yaml.Node, field string, handlers map[string]func(k, v *yaml.Node) error) error {
	if n.Kind != yaml.MappingNode {
		what := field
		if what == "" {
			what = "the policy"
		}
		return d.errf(n, field, "want a mapping for %s, got %s", what, kindName(n))
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		name := join(field, k.Value)
		h, ok := handlers[k.Value]
		if !ok {
			return d.errf(k, name, "unknown field (want one of %s)", keys(handlers))
		}
		if seen[k.Value] {
			return d.errf(k, name, "repeated field")
		}
		seen[k.Value] = true
		if err := h(k, v); err != nil {
			return err
		}
	}
	return nil
}

func (d decoder) scalar(n *yaml.Node, field string) (string, error) {
	if n.Kind != yaml.ScalarNode {
		return "", d.errf(n, field, "want a single value, got %s", kindName(n))
	}
	return n.Value, nil
}

// text is a scalar that must not be empty.
func (d decoder) text(n *yaml.Node, field string) (string, error) {
	s, err := d.scalar(n, field)
	if err != nil {
		return "", err
	}
	s = strings.TrimSpace(s)
	if s == "" || n.Tag == "!!null" {
		return "", d.errf(n, field, "must not be empty")
	}
	return s, nil
}

// strings reads a list of non-empty strings (a single value is a list of
// one).
func (d decoder) strings(n *yaml.Node, field string) ([]string, error) {
	if n.Kind == yaml.ScalarNode {
		s, err := d.text(n, field)
		if err != nil {
			return nil, err
		}
		return []string{s}, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, d.errf(n, field, "want a list, got %s", kindName(n))
	}
	var out []string
	for i, item := range n.Content {
		s, err := d.text(item, fmt.Sprintf("%s[%d]", field, i))
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func (d decoder) ignore(n *yaml.Node, field string) (Ignore, error) {
	ig := Ignore{Line: n.Line}
	str := func(dst *string, name string) func(_, v *yaml.Node) error {
		return func(_, v *yaml.Node) (err error) {
			*dst, err = d.text(v, join(field, name))
			return err
		}
	}
	err := d.mapping(n, field, map[string]func(k, v *yaml.Node) error{
		"check":    str(&ig.Check, "check"),
		"category": str(&ig.Category, "category"),
		"reason":   str(&ig.Reason, "reason"),
		"path": func(k, v *yaml.Node) error {
			if err := str(&ig.Path, "path")(k, v); err != nil {
				return err
			}
			if !strings.HasPrefix(ig.Path, "/") && !strings.HasPrefix(ig.Path, "**") {
				return d.errf(v, join(field, "path"), "%q is not absolute: paths in an image start with / (or **)", ig.Path)
			}
			g, err := compileGlob(ig.Path)
			if err != nil {
				return d.errf(v, join(field, "path"), "%v", err)
			}
			ig.path = g
			return nil
		},
		"image": func(k, v *yaml.Node) error {
			if err := str(&ig.Image, "image")(k, v); err != nil {
				return err
			}
			g, err := compileGlob(ig.Image)
			if err != nil {
				return d.errf(v, join(field, "image"), "%v", err)
			}
			ig.image = g
			return nil
		},
		"workload": func(k, v *yaml.Node) error {
			if err := str(&ig.Workload, "workload")(k, v); err != nil {
				return err
			}
			g, err := compileGlob(ig.Workload)
			if err != nil {
				return d.errf(v, join(field, "workload"), "%v", err)
			}
			ig.workload = g
			return nil
		},
		"container": func(k, v *yaml.Node) error {
			if err := str(&ig.Container, "container")(k, v); err != nil {
				return err
			}
			g, err := compileGlob(ig.Container)
			if err != nil {
				return d.errf(v, join(field, "container"), "%v", err)
			}
			ig.container = g
			return nil
		},
		"expires": func(k, v *yaml.Node) error {
			if err := str(&ig.Expires, "expires")(k, v); err != nil {
				return err
			}
			t, err := time.Parse(time.DateOnly, ig.Expires)
			if err != nil {
				return d.errf(v, join(field, "expires"), "%q is not a date: want YYYY-MM-DD", ig.Expires)
			}
			ig.expires = t.AddDate(0, 0, 1)
			return nil
		},
	})
	if err != nil {
		return ig, err
	}
	switch {
	case ig.Check == "" && ig.Category == "":
		return ig, d.errf(n, field, "an ignore needs a check or a category")
	case ig.Check != "" && ig.Category != "":
		return ig, d.errf(n, field, "an ignore names a check or a category, not both")
	case ig.Reason == "":
		return ig, d.errf(n, join(field, "reason"), "required: say why the finding is accepted")
	}
	return ig, nil
}

func join(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "." + name
}

func keys(m map[string]func(k, v *yaml.Node) error) string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return strings.Join(ks, ", ")
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	if n.Tag == "!!null" {
		return "nothing"
	}
	return fmt.Sprintf("%q", n.Value)
}
