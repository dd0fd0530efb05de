package checks

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// This file holds the credential detectors shared by the secret checks and
// by the redaction of history text (every LayerRef.CreatedBy goes through
// redactText, so no finding ever carries a secret's value).

// isSecretWord reports whether a name word makes a variable a credential.
func isSecretWord(s string) bool {
	switch s {
	case "PASSWORD", "PASSWD", "PASSPHRASE", "PASS", "PWD", "SECRET", "SECRETS", "TOKEN", "TOKENS",
		"CREDENTIAL", "CREDENTIALS", "CREDS", "APIKEY", "PRIVATEKEY", "ACCESSKEY", "SECRETKEY",
		"AUTHTOKEN", "ACCESSTOKEN":
		return true
	}
	return false
}

// isKeyQualifier reports whether a word followed by KEY makes a credential
// name: API_KEY, ACCESS_KEY, PRIVATE_KEY ... (KEY alone, as in GPG_KEY, is
// not one).
func isKeyQualifier(s string) bool {
	switch s {
	case "API", "ACCESS", "PRIVATE", "SECRET", "AUTH", "ENCRYPTION", "SIGNING", "MASTER", "ACCOUNT",
		"SESSION", "LICENSE", "CLIENT", "APP", "SERVICE":
		return true
	}
	return false
}

// isMetadataWord reports whether a word ending a name describes a
// credential without being one (TOKEN_URL, PASSWORD_MIN_LENGTH).
func isMetadataWord(s string) bool {
	switch s {
	case "URL", "URI", "ENDPOINT", "HOST", "HOSTNAME", "PORT", "NAME", "USER", "USERNAME", "LENGTH", "LEN",
		"SIZE", "TTL", "EXPIRY", "EXPIRES", "EXPIRATION", "TIMEOUT", "LIFETIME", "DURATION", "TYPE",
		"KIND", "HEADER", "ALGORITHM", "ALG", "VERSION", "ENABLED", "DISABLED", "REQUIRED", "POLICY",
		"MODE", "FORMAT", "PREFIX", "ISSUER", "AUDIENCE", "SCOPE", "SCOPES", "REGION", "COUNT", "LIMIT",
		"RETRIES", "MIN", "MAX", "METHOD", "PROVIDER", "BACKEND", "STORE", "ARN", "HINT", "FILE", "FILES",
		"PATH", "DIR", "FILENAME", "LOCATION", "FOLDER":
		return true
	}
	return false
}

// nameWords splits a variable name into upper-case words at non-alphanumeric
// characters and lower-to-upper case changes ("dbPassword" -> DB PASSWORD).
func nameWords(name string) []string {
	var words []string
	var cur []rune
	prevLower := false
	flush := func() {
		if len(cur) > 0 {
			words = append(words, strings.ToUpper(string(cur)))
			cur = cur[:0]
		}
	}
	for _, r := range name {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if unicode.IsUpper(r) && prevLower {
				flush()
			}
			cur = append(cur, r)
			prevLower = unicode.IsLower(r) || unicode.IsDigit(r)
		default:
			flush()
			prevLower = false
		}
	}
	flush()
	return words
}

// isSecretName reports whether a variable name says it holds a credential.
// The whole names PWD and OLDPWD (the shell's directories) are not.
func isSecretName(name string) bool {
	words := nameWords(name)
	if len(words) == 0 || isMetadataWord(words[len(words)-1]) {
		return false
	}
	if len(words) == 1 && (words[0] == "PWD" || words[0] == "OLDPWD") {
		return false
	}
	for i, w := range words {
		if isSecretWord(w) {
			return true
		}
		if w == "KEY" && i > 0 && isKeyQualifier(words[i-1]) {
			return true
		}
	}
	return false
}

var (
	varReference = regexp.MustCompile("^[$`]") // $VAR, ${VAR}, $(cmd), `cmd`: expanded at run time, not a literal
	pathLike     = regexp.MustCompile(`^(/|\./|\.\./|~/)[^\s]*$`)
)

// isNotValue reports whether s (lower case) is a switch value, not a
// credential.
func isNotValue(s string) bool {
	switch s {
	case "true", "false", "yes", "no", "on", "off", "0", "1", "none", "null", "nil", "enabled", "disabled",
		"required", "optional":
		return true
	}
	return false
}

// isSecretValue reports whether a value assigned to a credential-named
// variable is a credential: not empty, not a boolean-like switch, not a
// reference to another variable or command, not a file path.
func isSecretValue(v string) bool {
	v = strings.TrimSpace(v)
	if v == "" || isNotValue(strings.ToLower(v)) {
		return false
	}
	if varReference.MatchString(v) || pathLike.MatchString(v) {
		return false
	}
	return true
}

// tokenPattern is a credential format recognised by its value alone.
type tokenPattern struct {
	kind string
	re   *regexp.Regexp // group 1, when present, is the secret part
}

// Token formats: see tokenPatterns.
var (
	tokAwsAccessKeyId   = regexp.MustCompile(`\b((?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16})\b`)
	tokGithubToken      = regexp.MustCompile(`\b(gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b`)
	tokGitlabToken      = regexp.MustCompile(`\b(gl(?:pat|ptt|dt|rt)-[A-Za-z0-9_-]{20,})`)
	tokSlackToken       = regexp.MustCompile(`\b(xox[baprs]-[A-Za-z0-9-]{10,})`)
	tokSlackWebhook     = regexp.MustCompile(`https://hooks\.slack\.com/services/([A-Za-z0-9/_+-]{20,})`)
	tokStripeKey        = regexp.MustCompile(`\b((?:sk|rk)_live_[A-Za-z0-9]{20,})\b`)
	tokGoogleApiKey     = regexp.MustCompile(`\b(AIza[0-9A-Za-z_-]{35})`)
	tokNpmToken         = regexp.MustCompile(`\b(npm_[A-Za-z0-9]{36})\b`)
	tokPypiToken        = regexp.MustCompile(`\b(pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,})`)
	tokDockerHubToken   = regexp.MustCompile(`\b(dckr_pat_[A-Za-z0-9_-]{20,})`)
	tokOpenaiKey        = regexp.MustCompile(`\b(sk-(?:proj-)?[A-Za-z0-9_-]{20,}T3BlbkFJ[A-Za-z0-9_-]{20,})`)
	tokAnthropicKey     = regexp.MustCompile(`\b(sk-ant-[a-z]+[0-9]{2}-[A-Za-z0-9_-]{80,})`)
	tokHuggingfaceToken = regexp.MustCompile(`\b(hf_[A-Za-z]{34})\b`)
	tokSendgridKey      = regexp.MustCompile(`\b(SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43})`)
	tokJwt              = regexp.MustCompile(`\b(eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,})`)
	tokPrivateKey       = regexp.MustCompile(`(-----BEGIN[A-Z0-9 ]{0,40} PRIVATE KEY( BLOCK)?-----(?s:.*?)(?:-----END[A-Z0-9 ]{0,40} PRIVATE KEY( BLOCK)?-----|$))`)
	tokUrlCredentials   = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@"'<>]+:([^/\s@"'<>]+)@`)
)

// tokenPatterns returns the credential formats recognised by value.
func tokenPatterns() []tokenPattern {
	return []tokenPattern{
		{"aws-access-key-id", tokAwsAccessKeyId},
		{"github-token", tokGithubToken},
		{"gitlab-token", tokGitlabToken},
		{"slack-token", tokSlackToken},
		{"slack-webhook", tokSlackWebhook},
		{"stripe-key", tokStripeKey},
		{"google-api-key", tokGoogleApiKey},
		{"npm-token", tokNpmToken},
		{"pypi-token", tokPypiToken},
		{"docker-hub-token", tokDockerHubToken},
		{"openai-key", tokOpenaiKey},
		{"anthropic-key", tokAnthropicKey},
		{"huggingface-token", tokHuggingfaceToken},
		{"sendgrid-key", tokSendgridKey},
		{"jwt", tokJwt},
		{"private-key", tokPrivateKey},
		{"url-credentials", tokUrlCredentials},
	}
}

// textSecret is one credential found in a piece of text.
type textSecret struct {
	name       string // variable name, or the kind of credential
	value      string
	start, end int // byte span of the value in the text
}

var (
	assignment       = regexp.MustCompile(`(?:^|[\s;|&'"(])([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|'[^']*'|[^\s;&|'"()]*)`)
	commandSeparator = regexp.MustCompile(`&&|\|\||[;|\n]`)
	// "echo user:password | chpasswd" spans a pipe.
	chpasswd = regexp.MustCompile(`\becho\s+(?:-e\s+)?["']?[^\s:"']+:([^\s"']+)["']?\s*\|\s*(?:sudo\s+)?chpasswd\b`)
)

// Command-line credentials: see cmdCredentials.
var (
	cmdCurlU               = regexp.MustCompile(`\bcurl\b`)
	optCurlU               = regexp.MustCompile(`(?:^|\s)(?:-u\s*|--user[=\s]\s*|--proxy-user[=\s]\s*|-U\s*)["']?[^\s:"']+:([^\s"']+)`)
	optPasswordOption      = regexp.MustCompile(`(?:^|\s)--(?:[a-z]+-)?(?:password|passwd)[=\s]\s*["']?([^\s"']+)`)
	cmdDockerLoginP        = regexp.MustCompile(`\b(?:docker|podman|buildah|skopeo|helm|nerdctl)\b.*\blogin\b`)
	optDockerLoginP        = regexp.MustCompile(`(?:^|\s)-p\s+["']?([^\s"']+)`)
	cmdSshpassP            = regexp.MustCompile(`\bsshpass\b`)
	optSshpassP            = regexp.MustCompile(`(?:^|\s)-p\s*["']?([^\s"']+)`)
	cmdMysqlP              = regexp.MustCompile(`\bmysql(?:dump|admin)?\b|\bmariadb\b`)
	optMysqlP              = regexp.MustCompile(`(?:^|\s)-p([^\s"']+)`)
	optAuthorizationHeader = regexp.MustCompile(`(?i)(?:authorization:\s*(?:bearer|token|basic)\s+|(?:private|job|deploy)-token:\s*|x-api-key:\s*)([^\s"'\\]+)`)
)

// cmdCredential is a command-line option that carries a credential.
type cmdCredential struct {
	name  string
	cmd   *regexp.Regexp // the command the option belongs to; nil for any
	value *regexp.Regexp // group 1 is the secret
}

// cmdCredentials returns the command-line credentials, searched per
// command of a shell line.
func cmdCredentials() []cmdCredential {
	return []cmdCredential{
		{"curl -u", cmdCurlU, optCurlU},
		{"password option", nil, optPasswordOption},
		{"docker login -p", cmdDockerLoginP, optDockerLoginP},
		{"sshpass -p", cmdSshpassP, optSshpassP},
		{"mysql -p", cmdMysqlP, optMysqlP},
		{"authorization header", nil, optAuthorizationHeader},
	}
}

// findTextSecrets finds credentials in free text such as a history
// created_by: NAME=value assignments with a credential name (ARG, ENV,
// --build-arg, shell variables), command-line credentials (curl -u
// user:pass, --password=..., docker login -p, Authorization headers,
// echo user:pass | chpasswd) and
// values with a recognisable token format. Values that are variable or
// command references are not credentials.
func findTextSecrets(text string) []textSecret {
	var out []textSecret
	add := func(name string, start, end int) {
		v := text[start:end]
		if !isSecretValue(strings.Trim(v, `"'`)) {
			return
		}
		out = append(out, textSecret{name: name, value: v, start: start, end: end})
	}
	for _, m := range assignment.FindAllStringSubmatchIndex(text, -1) {
		name := text[m[2]:m[3]]
		if isSecretName(name) && m[5] > m[4] {
			s, e := m[4], m[5]
			if v := text[s:e]; len(v) >= 2 && (v[0] == '"' || v[0] == '\'') {
				s, e = s+1, e-1
			}
			add(name, s, e)
		}
	}
	// Commands of a shell line.
	off := 0
	for _, seg := range splitKeep(text, commandSeparator) {
		for _, c := range cmdCredentials() {
			if c.cmd != nil && !c.cmd.MatchString(seg) {
				continue
			}
			for _, m := range c.value.FindAllStringSubmatchIndex(seg, -1) {
				add(c.name, off+m[2], off+m[3])
			}
		}
		off += len(seg)
	}
	for _, m := range chpasswd.FindAllStringSubmatchIndex(text, -1) {
		add("chpasswd", m[2], m[3])
	}
	out = append(out, findTokens(text)...)
	return dedupeSpans(out)
}

// findTokens finds values with a recognisable credential format.
func findTokens(text string) []textSecret {
	var out []textSecret
	for _, p := range tokenPatterns() {
		for _, m := range p.re.FindAllStringSubmatchIndex(text, -1) {
			s, e := m[0], m[1]
			if len(m) >= 4 && m[2] >= 0 {
				s, e = m[2], m[3]
			}
			v := text[s:e]
			if p.kind == "url-credentials" && !isSecretValue(v) {
				continue
			}
			out = append(out, textSecret{name: p.kind, value: v, start: s, end: e})
		}
	}
	return out
}

// splitKeep splits s at sep, keeping the separators at the end of each part
// so that offsets add up.
func splitKeep(s string, sep *regexp.Regexp) []string {
	var out []string
	last := 0
	for _, m := range sep.FindAllStringIndex(s, -1) {
		out = append(out, s[last:m[1]])
		last = m[1]
	}
	return append(out, s[last:])
}

// dedupeSpans drops secrets whose span lies within another's, keeping the
// first found (assignments before formats), ordered by position.
func dedupeSpans(ss []textSecret) []textSecret {
	var out []textSecret
	for _, s := range ss {
		dup := false
		for _, o := range out {
			if s.start < o.end && o.start < s.end {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, s)
		}
	}
	slices.SortStableFunc(out, func(a, b textSecret) int { return a.start - b.start })
	return out
}

// redactValue shows a secret without revealing it: its first two characters
// (when it is long enough for that to give nothing away) and its length.
func redactValue(v string) string {
	n := utf8.RuneCountInString(v)
	if n >= 12 {
		r := []rune(v)
		return fmt.Sprintf("%s…(%d chars)", string(r[:2]), n)
	}
	return fmt.Sprintf("…(%d chars)", n)
}

// RedactText returns text (a history step's created_by, say) with every
// credential the secret checks recognise replaced by its redacted form
// ("gh…(40 chars)"). Anything that shows image history to a user, such as
// a report's list of layers, goes through it.
func RedactText(text string) string { return redactText(text) }

// redactText replaces every credential findTextSecrets finds in text by its
// redacted form.
func redactText(text string) string {
	ss := findTextSecrets(text)
	if len(ss) == 0 {
		return text
	}
	var b strings.Builder
	last := 0
	for _, s := range ss {
		if s.start < last {
			continue
		}
		b.WriteString(text[last:s.start])
		b.WriteString(redactValue(s.value))
		last = s.end
	}
	b.WriteString(text[last:])
	return b.String()
}
