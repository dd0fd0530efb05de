package checks

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	it "github.com/imgaudit/imgaudit/internal/imagetest"
)

func TestPackageManager(t *testing.T) {
	pipScript := it.Script("/usr/local/bin/python3", "from pip._internal.cli.main import main\nmain()\n")
	tests := []struct {
		name  string
		cfg   v1.Config
		steps []it.LayerStep
		want  []string
	}{{
		name: "dpkg and apt tools, each real file once",
		steps: []it.LayerStep{it.Step("FROM debian", items(usrmerge(), []it.Item{
			it.File("usr/bin/dpkg", 0o755, elf), it.File("usr/bin/dpkg-query", 0o755, elf),
			it.File("usr/bin/apt-get", 0o755, elf), it.File("usr/bin/apt", 0o755, elf),
			it.File("usr/bin/update-alternatives", 0o755, elf),
		})...)},
		want: []string{
			"/usr/bin/apt apt aliases=/bin/apt L0",
			"/usr/bin/apt-get apt-get aliases=/bin/apt-get L0",
			"/usr/bin/dpkg dpkg aliases=/bin/dpkg L0",
			"/usr/bin/dpkg-query dpkg-query aliases=/bin/dpkg-query L0",
		},
	}, {
		name: "pip scripts in PATH count, the pip package directory does not",
		steps: []it.LayerStep{it.Step("RUN pip install",
			it.Dir("usr/local/bin", 0o755),
			it.File("usr/local/bin/pip", 0o755, pipScript), it.File("usr/local/bin/pip3", 0o755, pipScript),
			it.File("usr/local/bin/pip3.11", 0o755, pipScript),
			it.File("usr/local/bin/python3", 0o755, elf),
			it.Dir("usr/local/lib/python3.11/site-packages/pip", 0o755),
			it.File("usr/local/lib/python3.11/site-packages/pip/__main__.py", 0o755, []byte("import pip")),
		)},
		want: []string{
			"/usr/local/bin/pip pip L0",
			"/usr/local/bin/pip3 pip3 L0",
			"/usr/local/bin/pip3.11 pip3.11 L0",
		},
	}, {
		name: "npm: the PATH link resolves to the CLI script outside PATH",
		steps: []it.LayerStep{it.Step("COPY node",
			it.Dir("usr/local/bin", 0o755), it.File("usr/local/bin/node", 0o755, elf),
			it.Dir("usr/local/lib/node_modules/npm/bin", 0o755),
			it.File("usr/local/lib/node_modules/npm/bin/npm-cli.js", 0o755, it.Script("/usr/bin/env node", "require('../lib/cli.js')")),
			it.Symlink("usr/local/bin/npm", "../lib/node_modules/npm/bin/npm-cli.js"),
			it.Dir("opt/yarn/bin", 0o755), it.File("opt/yarn/bin/yarn", 0o755, it.Script("/usr/bin/env node", "")),
			it.Symlink("usr/local/bin/yarn", "/opt/yarn/bin/yarn"), it.Symlink("usr/local/bin/yarnpkg", "/opt/yarn/bin/yarn"),
		)},
		want: []string{
			"/opt/yarn/bin/yarn yarn,yarnpkg aliases=/usr/local/bin/yarn,/usr/local/bin/yarnpkg L0",
			"/usr/local/lib/node_modules/npm/bin/npm-cli.js npm aliases=/usr/local/bin/npm L0",
		},
	}, {
		name: "apk removed by a later layer",
		steps: []it.LayerStep{
			it.Step("FROM alpine", it.Dir("sbin", 0o755), it.File("sbin/apk", 0o755, elf)),
			it.Step("RUN apk del apk-tools", it.Whiteout("sbin/apk")),
		},
	}, {
		name: "not package managers: a directory named pip in PATH, a non-executable yum, a config file",
		steps: []it.LayerStep{it.Step("FROM",
			it.Dir("usr/bin/pip", 0o755), it.Dir("usr/sbin", 0o755), it.File("usr/sbin/yum", 0o644, elf),
			it.Dir("etc/apt", 0o755), it.Text("etc/apt/apt.conf", ""),
			it.File("usr/bin/rpm2cpio", 0o755, elf), it.File("usr/bin/apticron-x", 0o644, elf),
		)},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := run(t, PackageManager(), build(t, tc.cfg, tc.steps...))
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("findings (-want +got):\n%s", d)
			}
		})
	}
}
