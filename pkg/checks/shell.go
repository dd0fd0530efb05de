package checks

// shellTools lists the command interpreters. busybox is one (it runs "sh"
// for any argv[0] of that name), and so is every busybox binary whatever
// name reaches it.
func shellTools() *toolSet {
	return newToolSet([]string{
		"sh", "bash", "rbash", "dash", "ash", "hush", "msh", "zsh", "ksh", "ksh93", "mksh", "lksh", "pdksh", "oksh",
		"csh", "tcsh", "fish", "yash", "posh", "elvish", "nu", "xonsh", "pwsh", "busybox",
	}, nil, false)
}

// Shell reports command interpreters reachable from PATH.
func Shell() Check {
	return &toolCheck{
		meta: Meta{
			ID:       "IA-SHELL",
			Title:    "Shell available",
			Category: CategoryShell,
			Severity: Medium,
			Rationale: "A shell turns any command injection or remote code execution into an interactive foothold: " +
				"the attacker can chain every other tool in the image, write scripts and persist. Exec-form ENTRYPOINTs do not need one.",
			Fix: "Build the final stage on a base without a shell.",
			Remediation: "Build the final stage FROM a base without a shell (gcr.io/distroless/*, cgr.dev/chainguard/* without -dev, or scratch), " +
				"copy only the application into it, and use exec-form ENTRYPOINT/CMD.",
			Notes: "A busybox multi-call binary counts as a shell whatever name reaches it, because it runs the applet argv[0] names.",
		},
		tools:   shellTools(),
		busybox: true,
	}
}
