package cli

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/imgaudit/imgaudit/pkg/checks"
	"github.com/imgaudit/imgaudit/pkg/output"
	"github.com/imgaudit/imgaudit/pkg/policy"
	"github.com/imgaudit/imgaudit/pkg/workload"
)

// gateOptions are the flags of the CI gate and the policy file.
type gateOptions struct {
	failOn   string
	profile  string
	file     string
	noPolicy bool
}

func (o *gateOptions) AddFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.failOn, "fail-on", policy.DefaultThreshold.String(),
		"exit 1 when a finding is at or above this `SEVERITY`: "+strings.Join(policy.ThresholdNames(), ", ")+
			" (none never fails); overrides the policy file's fail-on")
	f.StringVar(&o.profile, "profile", "",
		"fail an image on any finding (low or above) of the `PROFILE`'s checks: "+strings.Join(checks.ProfileNames(), ", ")+
			", or none; without --fail-on the gate is baseline ('imgaudit checks' shows which check is in which)")
	f.StringVar(&o.file, "policy", "", "policy `FILE` (default: "+policy.FileName+" in the working directory, when there is one)")
	f.BoolVar(&o.noPolicy, "no-policy", false, "ignore "+policy.FileName+" in the working directory")
}

// load reads the policy: --policy FILE, else FileName in the working
// directory; none with --no-policy. The policy's check IDs and categories
// are checked against the catalogue.
func (o *gateOptions) load(env Env) (*policy.Policy, error) {
	if o.noPolicy && o.file != "" {
		return nil, fmt.Errorf("--policy and --no-policy cannot be used together")
	}
	var (
		p   *policy.Policy
		err error
	)
	switch {
	case o.noPolicy:
		return nil, nil
	case o.file != "":
		p, err = policy.Load(o.file)
	default:
		dir := env.Dir
		if dir == "" {
			if dir, err = os.Getwd(); err != nil {
				return nil, fmt.Errorf("finding the policy file: %w", err)
			}
		}
		p, err = policy.Find(dir)
		if p != nil {
			p.File = policy.FileName // found in the working directory: say so briefly
		}
	}
	if err != nil {
		return nil, err
	}
	ids, cats := catalogueNames()
	if err := p.Validate(ids, cats); err != nil {
		return nil, err
	}
	if err := p.CheckProfile(checks.ProfileNames()); err != nil {
		return nil, err
	}
	return p, nil
}

// gate resolves the image gate: --fail-on and --profile when given, else
// the policy file's fail-on and profile. With neither anywhere the gate is
// the baseline profile (defaultProfile; a workload run gates on its
// cross-checks at DefaultThreshold instead). A profile alone fails on its
// checks only (fail-on none); --fail-on alone is a severity gate, as it
// always was; both fail on either.
func (o *gateOptions) gate(cmd *cobra.Command, p *policy.Policy, defaultProfile bool) (policy.Threshold, policy.Profile, error) {
	failOnSet := cmd.Flags().Changed("fail-on") || (p != nil && p.FailOn != nil)
	name := ""
	switch {
	case cmd.Flags().Changed("profile"):
		name = strings.ToLower(strings.TrimSpace(o.profile))
	case p != nil && p.Profile != "":
		name = p.Profile
	case !failOnSet && defaultProfile:
		name = checks.ProfileBaseline
	}
	var prof policy.Profile
	if name != "" && name != "none" {
		cp, ok := checks.ProfileByName(name)
		if !ok {
			return 0, prof, fmt.Errorf("--profile: unknown profile %q (want %s or none)", o.profile, strings.Join(checks.ProfileNames(), ", "))
		}
		prof = policy.Profile{Name: cp.Name, Checks: cp.Checks}
	}
	t := policy.DefaultThreshold
	switch {
	case cmd.Flags().Changed("fail-on"):
		var err error
		if t, err = policy.ParseThreshold(o.failOn); err != nil {
			return 0, prof, fmt.Errorf("--fail-on: %w", err)
		}
	case p != nil && p.FailOn != nil:
		t = *p.FailOn
	case prof.Name != "":
		t = policy.FailNever
	}
	return t, prof, nil
}

// catalogueNames returns the check IDs and the categories of the catalogue:
// the image checks and the workload cross-checks (IW-*), which one policy
// file names alike.
func catalogueNames() (ids, categories []string) {
	for _, m := range append(checks.Metas(checks.All()), workloadMetas()...) {
		ids = append(ids, m.ID)
		if c := string(m.Category); !slices.Contains(categories, c) {
			categories = append(categories, c)
		}
	}
	slices.Sort(categories)
	return ids, categories
}

// workloadMetas describes the workload cross-checks as the image
// catalogue describes its checks: the rationale is where the behaviour
// comes from.
func workloadMetas() []checks.Meta {
	var out []checks.Meta
	for _, c := range workload.Checks() {
		out = append(out, checks.Meta{ID: c.ID, Title: c.Title, Category: checks.Category(c.Category), Severity: c.Severity,
			Rationale: c.Docs, Remediation: c.Remediation})
	}
	return out
}

// outputRules describes the catalogue for the renderers.
func outputRules() []output.Rule {
	metas := checks.Metas(checks.All())
	rules := make([]output.Rule, 0, len(metas))
	for _, m := range metas {
		r := output.Rule{
			ID: m.ID, Title: m.Title, Category: string(m.Category), Severity: m.Severity,
			Rationale: m.Rationale, Remediation: m.Remediation, Fix: m.Fix,
		}
		if len(m.Profiles) > 0 {
			r.Profile = m.Profiles[0]
		}
		rules = append(rules, r)
	}
	return rules
}
