package checks

// sshServerTools lists the remote login daemons.
func sshServerTools() *toolSet {
	return newToolSet([]string{
		"sshd", "dropbear", "dropbearmulti", "tinysshd",
	}, nil, false)
}

// SSHServer reports SSH servers reachable from PATH.
func SSHServer() Check {
	return &toolCheck{
		meta: Meta{
			ID:       "IA-SSH-SERVER",
			Title:    "SSH server installed",
			Category: CategorySSHServer,
			Severity: High,
			Rationale: "An SSH daemon in a container is a second, unmonitored way in, usually with host keys baked into the image " +
				"and shared by every container started from it.",
			Fix:         "Remove the SSH server; use `kubectl exec` for access.",
			Remediation: "Remove the SSH server; use `kubectl exec`/`docker exec` or an ephemeral debug container for access.",
		},
		tools: sshServerTools(),
	}
}
