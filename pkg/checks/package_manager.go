package checks

// packageManagerTools lists the commands that install software: system
// package managers and language package managers.
func packageManagerTools() *toolSet {
	return newToolSet([]string{
		"apt", "apt-get", "apt-cache", "aptitude", "add-apt-repository", "dpkg",
		"apk", "apk.static", "yum", "dnf", "microdnf", "tdnf", "rpm", "rpmdb", "rpmkeys", "rpmquery", "rpmverify",
		"zypper", "pacman", "opkg", "ipkg", "emerge", "xbps-install", "swupd", "eopkg", "nix", "nix-env", "snap", "flatpak", "brew",
		"pip", "pipx", "pipenv", "poetry", "uv", "easy_install", "conda", "mamba", "micromamba",
		"npm", "npx", "yarn", "yarnpkg", "pnpm", "pnpx", "corepack",
		"gem", "bundle", "bundler", "cargo", "rustup", "composer", "pecl", "pear", "cpan", "cpanm", "luarocks",
	}, []string{"apt-", "dpkg-"}, false)
}

// PackageManager reports package managers reachable from PATH.
func PackageManager() Check {
	return &toolCheck{
		meta: Meta{
			ID:       "IA-PKG-MANAGER",
			Title:    "Package manager available",
			Category: CategoryPackageManager,
			Severity: Medium,
			Rationale: "A package manager lets an attacker install any tool the image left out (compilers, scanners, reverse shells) " +
				"and tampers with the software inventory scanners rely on.",
			Fix: "Ship a final stage without a package manager.",
			Remediation: "Install dependencies in a build stage and copy only the results into a final stage without a package manager " +
				"(distroless, Chainguard, scratch); or, where the distribution allows it, remove the package manager in the last step " +
				"(each finding names the command for the image's own package manager).",
			Notes: "All dpkg-* and apt-* commands count, each real file once.",
		},
		tools: packageManagerTools(),
	}
}
