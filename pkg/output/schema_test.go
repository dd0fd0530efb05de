package output_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/invopop/jsonschema"

	"github.com/imgaudit/imgaudit/pkg/report"
)

// TestGoldenJSONSchema generates the JSON Schema of the report from the Go
// types in pkg/report (their doc comments become descriptions) and compares
// it with docs/schema/report-v1.schema.json; -update rewrites the file.
// A field removed or renamed shows up here as a diff to review: schema
// version 1 only ever gains fields.
func TestGoldenJSONSchema(t *testing.T) {
	path, err := filepath.Abs(reportSchema)
	if err != nil {
		t.Fatal(err)
	}
	got := generateSchema(t) // changes the working directory
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run: go test ./pkg/output -run Golden -update)", err)
	}
	if d := cmp.Diff(string(want), string(got)); d != "" {
		t.Errorf("%s is stale (-want +got); refresh with: go test ./pkg/output -run Golden -update\n%s", path, d)
	}
	// Nothing in v1 may disappear: every property of the committed schema
	// is still in the generated one.
	var committed, generated map[string]any
	if err := json.Unmarshal(want, &committed); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(got, &generated); err != nil {
		t.Fatal(err)
	}
	for _, p := range properties(committed) {
		if !contains(properties(generated), p) {
			t.Errorf("property %s was removed or renamed: schema version 1 only gains fields", p)
		}
	}
}

// properties lists "Definition.property" for every property of the schema.
func properties(schema map[string]any) []string {
	var out []string
	add := func(def string, s map[string]any) {
		props, _ := s["properties"].(map[string]any)
		for name := range props {
			out = append(out, def+"."+name)
		}
	}
	add("Report", schema)
	defs, _ := schema["$defs"].(map[string]any)
	for name, d := range defs {
		if m, ok := d.(map[string]any); ok {
			add(name, m)
		}
	}
	return out
}

func generateSchema(t *testing.T) []byte {
	t.Helper()
	r := &jsonschema.Reflector{
		// Consumers of v1 must accept fields added later.
		AllowAdditionalProperties: true,
		ExpandedStruct:            true,
		// A severity is written as its name (report.Severity is a
		// TextMarshaler), and so are the keys of maps keyed by severity.
		Mapper: func(rt reflect.Type) *jsonschema.Schema {
			switch rt {
			case reflect.TypeFor[report.Severity]():
				return &jsonschema.Schema{Type: "string", Enum: severityEnum()}
			case reflect.TypeFor[map[report.Severity]int]():
				return &jsonschema.Schema{Type: "object", AdditionalProperties: &jsonschema.Schema{Type: "integer"},
					PropertyNames: &jsonschema.Schema{Enum: severityEnum()}}
			case reflect.TypeFor[report.Verdict]():
				return &jsonschema.Schema{Type: "string", Enum: []any{report.Pass, report.Fail, report.Incomplete}}
			}
			return nil
		},
	}
	// Doc comments become descriptions; AddGoComments reads paths relative
	// to the module root.
	t.Chdir("../..")
	if err := r.AddGoComments("github.com/imgaudit/imgaudit", "./pkg/report"); err != nil {
		t.Fatal(err)
	}
	s := r.Reflect(&report.Report{})
	s.ID = "https://github.com/imgaudit/imgaudit/blob/main/docs/schema/report-v1.schema.json"
	s.Title = "imgaudit report, schema version 1"
	s.Description = "The JSON report of imgaudit (imgaudit scan --format json). Generated from pkg/report by " +
		"`go test ./pkg/output -run Golden -update`; do not edit. Version 1 is stable: fields may be added, none renamed or removed."

	prop := func(def, name string) *jsonschema.Schema {
		d := s
		if def != "" {
			d = s.Definitions[def]
		}
		if d == nil {
			t.Fatalf("schema has no definition %s", def)
		}
		p, ok := d.Properties.Get(name)
		if !ok {
			t.Fatalf("schema has no property %s.%s", def, name)
		}
		return p
	}
	prop("", "schemaVersion").Const = report.SchemaVersion
	prop("Gate", "failOn").Enum = append(severityEnum(), "none")
	prop("Suppression", "expires").Format = "date"
	makeNullable(t, s, reflect.TypeFor[report.Report]())

	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

// severityEnum lists the severity names, as report.Severity writes them.
func severityEnum() []any {
	var out []any
	for _, s := range report.Severities() {
		out = append(out, s.String())
	}
	return out
}

// makeNullable lets every pointer field without omitempty be null, as
// encoding/json writes a nil pointer (User.uid is null when the UID is not
// known).
func makeNullable(t *testing.T, s *jsonschema.Schema, root reflect.Type) {
	seen := map[reflect.Type]bool{}
	var walk func(rt reflect.Type)
	walk = func(rt reflect.Type) {
		for rt.Kind() == reflect.Pointer || rt.Kind() == reflect.Slice || rt.Kind() == reflect.Map {
			rt = rt.Elem()
		}
		if rt.Kind() != reflect.Struct || seen[rt] || rt.PkgPath() != root.PkgPath() {
			return
		}
		seen[rt] = true
		def := s.Definitions[rt.Name()]
		if rt == root {
			def = s
		}
		for i := 0; i < rt.NumField(); i++ {
			f := rt.Field(i)
			walk(f.Type)
			name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
			if f.Type.Kind() != reflect.Pointer || strings.Contains(opts, "omitempty") || name == "-" || def == nil {
				continue
			}
			p, ok := def.Properties.Get(name)
			if !ok {
				t.Fatalf("no property %s.%s", rt.Name(), name)
			}
			def.Properties.Set(name, &jsonschema.Schema{
				Description: p.Description,
				OneOf:       []*jsonschema.Schema{withoutDescription(p), {Type: "null"}},
			})
		}
	}
	walk(root)
}

func withoutDescription(p *jsonschema.Schema) *jsonschema.Schema {
	c := *p
	c.Description = ""
	return &c
}
