package checks

// permissionTools lists the commands that change file modes, owners, ACLs,
// attributes and capabilities.
func permissionTools() *toolSet {
	return newToolSet([]string{
		"chmod", "chown", "chgrp", "setfacl", "chacl", "chattr", "setfattr", "setcap", "chcon",
	}, nil, false)
}

// PermissionTool reports permission tools reachable from PATH.
func PermissionTool() Check {
	return &toolCheck{
		meta: Meta{
			ID:       "IA-PERMISSION-TOOL",
			Title:    "Permission tool available",
			Category: CategoryPermissionTool,
			Severity: Low,
			Rationale: "chmod and friends let an attacker make a dropped payload executable (`chmod +x`), " +
				"loosen permissions for persistence, or set file capabilities.",
			Fix:         "Set modes at build time (COPY --chmod); drop the tool.",
			Remediation: "Set modes and owners at build time (COPY --chmod/--chown) and ship a final image without these tools (distroless, scratch).",
		},
		tools: permissionTools(),
	}
}
