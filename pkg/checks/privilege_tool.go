package checks

// privilegeTools lists the commands that switch users or privileges.
func privilegeTools() *toolSet {
	return newToolSet([]string{
		"sudo", "sudoedit", "su", "doas", "pkexec", "runuser", "setpriv", "newgrp", "sg", "gosu", "su-exec",
	}, nil, false)
}

// PrivilegeTool reports user-switching tools reachable from PATH.
func PrivilegeTool() Check {
	return &toolCheck{
		meta: Meta{
			ID:       "IA-PRIVILEGE-TOOL",
			Title:    "Privilege tool available",
			Category: CategoryPrivilegeTool,
			Severity: Medium,
			Rationale: "sudo, su and doas are the usual way from an application user to root (a sudoers rule, a known or empty password, " +
				"a setuid bit); gosu and su-exec are only needed by entrypoints that start as root.",
			Fix:         "Run as a non-root USER from the start; drop the tool.",
			Remediation: "Run as a non-root USER from the start instead of switching users at runtime, and remove the tool from the final image.",
		},
		tools: privilegeTools(),
	}
}
