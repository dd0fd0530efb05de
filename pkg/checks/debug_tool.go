package checks

// debugTools lists the commands that attach to processes, trace system
// calls or capture traffic.
func debugTools() *toolSet {
	return newToolSet([]string{
		"gdb", "gdbserver", "lldb", "lldb-server", "strace", "ltrace", "perf", "valgrind", "bpftrace",
		"tcpdump", "tshark", "dumpcap", "sysdig",
	}, nil, false)
}

// DebugTool reports debuggers and tracers reachable from PATH.
func DebugTool() Check {
	return &toolCheck{
		meta: Meta{
			ID:          "IA-DEBUG-TOOL",
			Title:       "Debugging tool available",
			Category:    CategoryDebugTool,
			Severity:    Medium,
			Rationale:   "Debuggers and tracers read other processes' memory (keys, tokens) and inject code; packet capture sniffs cluster traffic.",
			Fix:         "Remove it; debug with `kubectl debug` instead.",
			Remediation: "Debug with an ephemeral debug container (`kubectl debug`) instead of shipping the tools; remove them from the final image.",
		},
		tools: debugTools(),
	}
}
