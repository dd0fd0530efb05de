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

// secretWords are name words that make a variable a credential.
var secretWords = map[string]bool{
	"PASSWORD": true, "PASSWD": true, "PASSPHRASE": true, "PASS": true, "PWD": true,
	"SECRET": true, "SECRETS": true, "TOKEN": true, "TOKENS": true,
	"CREDENTIAL": true, "CREDENTIALS": true, "CREDS": true,
	"APIKEY": true, "PRIVATEKEY": true, "ACCESSKEY": true, "SECRETKEY": true,
	"AUTHTOKEN": true, "ACCESSTOKEN": true,
}

// secretKeyPairs are the words that, followed by KEY, make a credential
// name: API_KEY, ACCESS_KEY, PRIVATE_KEY ... (KEY alone, as in GPG_KEY, is
// not one).
var secretKeyPairs = map[string]bool{
	"API": true, "ACCESS": true, "PRIVATE": true, "SECRET": true, "AUTH": true,
	"ENCRYPTION": true, "SIGNING": true, "MASTER": true, "ACCOUNT": true,
	"SESSION": true, "LICENSE": true, "CLIENT": true, "APP": true, "SERVICE": true,
}

// metadataWords end names that describe a credential without being one
// (TOKEN_URL, PASSWORD_MIN_LENGTH).
var metadataWords = map[string]bool{
	"URL": true, "URI": true, "ENDPOINT": true, "HOST": true, "HOSTNAME": true, "PORT": true,
	"NAME": true, "USER": true, "USERNAME": true, "LENGTH": true, "LEN": true, "SIZE": true,
	"TTL": true, "EXPIRY": true, "EXPIRES": true, "EXPIRATION": true, "TIMEOUT": true, "LIFETIME": true,
	"DURATION": true, "TYPE": true, "KIND": true, "HEADER": true, "ALGORITHM": true, "ALG": true,
	"VERSION": true, "ENABLED": true, "DISABLED": true, "REQUIRED": true, "POLICY": true, "MODE": true,
	"FORMAT": true, "PREFIX": true, "ISSUER": true, "AUDIENCE": true, "SCOPE": true, "SCOPES": true,
	"REGION": true, "COUNT": true, "LIMIT": true, "RETRIES": true, "MIN": true, "MAX": true,
	"METHOD": true, "PROVIDER": true, "BACKEND": true, "STORE": true, "ARN": true, "HINT": true,
	"FILE": true, "FILES": true, "PATH": true, "DIR": true, "FILENAME": true, "LOCATION": true, "FOLDER": true,
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
	if len(words) == 0 || metadataWords[words[len(words)-1]] {
		return false
	}
	if len(words) == 1 && (words[0] == "PWD" || words[0] == "OLDPWD") {
		return false
	}
	for i, w := range words {
		if secretWords[w] {
			return true
		}
		if w == "KEY" && i > 0 && secretKeyPairs[words[i-1]] {
			return true
		}
	}
	return false
}

var (
	varReference = regexp.MustCompile("^[$`]") // $VAR, ${VAR}, $(cmd), `cmd`: expanded at run time, not a literal
	pathLike     = regexp.MustCompile(`^(/|\./|\.\./|~/)[^\s]*$`)
	notValues    = map[string]bool{
		"true": true, "false": true, "yes": true, "no": true, "on": true, "off": true,
		"0": true, "1": true, "none": true, "null": true, "nil": true, "enabled": true, "disabled": true,
		"required": true, "optional": true,
	}
)

// isSecretValue reports whether a value assigned to a credential-named
// variable is a credential: not empty, not a boolean-like switch, not a
// reference to another variable or command, not a file path.
func isSecretValue(v string) bool {
	v = strings.TrimSpace(v)
	if v == "" || notValues[strings.ToLower(v)] {
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

var tokenPatterns = []tokenPattern{
	{"aws-access-key-id", regexp.MustCompile(`\b((?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16})\b`)},
	{"github-token", regexp.MustCompile(`\b(gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b`)},
	{"gitlab-token", regexp.MustCompile(`\b(gl(?:pat|ptt|dt|rt)-[A-Za-z0-9_-]{20,})`)},
	{"slack-token", regexp.MustCompile(`\b(xox[baprs]-[A-Za-z0-9-]{10,})`)},
	{"slack-webhook", regexp.MustCompile(`https://hooks\.slack\.com/services/([A-Za-z0-9/_+-]{20,})`)},
	{"stripe-key", regexp.MustCompile(`\b((?:sk|rk)_live_[A-Za-z0-9]{20,})\b`)},
	{"google-api-key", regexp.MustCompile(`\b(AIza[0-9A-Za-z_-]{35})`)},
	{"npm-token", regexp.MustCompile(`\b(npm_[A-Za-z0-9]{36})\b`)},
	{"pypi-token", regexp.MustCompile(`\b(pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,})`)},
	{"docker-hub-token", regexp.MustCompile(`\b(dckr_pat_[A-Za-z0-9_-]{20,})`)},
	{"openai-key", regexp.MustCompile(`\b(sk-(?:proj-)?[A-Za-z0-9_-]{20,}T3BlbkFJ[A-Za-z0-9_-]{20,})`)},
	{"anthropic-key", regexp.MustCompile(`\b(sk-ant-[a-z]+[0-9]{2}-[A-Za-z0-9_-]{80,})`)},
	{"huggingface-token", regexp.MustCompile(`\b(hf_[A-Za-z]{34})\b`)},
	{"sendgrid-key", regexp.MustCompile(`\b(SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43})`)},
	{"jwt", regexp.MustCompile(`\b(eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,})`)},
	{"private-key", regexp.MustCompile(`(-----BEGIN[A-Z0-9 ]{0,40} PRIVATE KEY( BLOCK)?-----(?s:.*?)(?:-----END[A-Z0-9 ]{0,40} PRIVATE KEY( BLOCK)?-----|$))`)},
	{"url-credentials", regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@"'<>]+:([^/\s@"'<>]+)@`)},
}

// textSecret is one credential found in a piece of text.
type textSecret struct {
	name       string // variable name, or the kind of credential
	value      string
	start, end int // byte span of the value in the text
}

var (
	assignment = regexp.MustCompile(`(?:^|[\s;|&'"(])([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|'[^']*'|[^\s;&|'"()]*)`)
	// Command-line credentials, searched per command of a shell line.
	cmdCredentials = []struct {
		name  string
		cmd   *regexp.Regexp // the command the option belongs to; nil for any
		value *regexp.Regexp // group 1 is the secret
	}{
		{"curl -u", regexp.MustCompile(`\bcurl\b`), regexp.MustCompile(`(?:^|\s)(?:-u\s*|--user[=\s]\s*|--proxy-user[=\s]\s*|-U\s*)["']?[^\s:"']+:([^\s"']+)`)},
		{"password option", nil, regexp.MustCompile(`(?:^|\s)--(?:[a-z]+-)?(?:password|passwd)[=\s]\s*["']?([^\s"']+)`)},
		{"docker login -p", regexp.MustCompile(`\b(?:docker|podman|buildah|skopeo|helm|nerdctl)\b.*\blogin\b`), regexp.MustCompile(`(?:^|\s)-p\s+["']?([^\s"']+)`)},
		{"sshpass -p", regexp.MustCompile(`\bsshpass\b`), regexp.MustCompile(`(?:^|\s)-p\s*["']?([^\s"']+)`)},
		{"mysql -p", regexp.MustCompile(`\bmysql(?:dump|admin)?\b|\bmariadb\b`), regexp.MustCompile(`(?:^|\s)-p([^\s"']+)`)},
		{"authorization header", nil, regexp.MustCompile(`(?i)(?:authorization:\s*(?:bearer|token|basic)\s+|(?:private|job|deploy)-token:\s*|x-api-key:\s*)([^\s"'\\]+)`)},
	}
	commandSeparator = regexp.MustCompile(`&&|\|\||[;|\n]`)
	// "echo user:password | chpasswd" spans a pipe.
	chpasswd = regexp.MustCompile(`\becho\s+(?:-e\s+)?["']?[^\s:"']+:([^\s"']+)["']?\s*\|\s*(?:sudo\s+)?chpasswd\b`)
)

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
		for _, c := range cmdCredentials {
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
	for _, p := range tokenPatterns {
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
