package checks

// buildTools lists the commands that compile, assemble or link code, and
// run builds.
func buildTools() *toolSet {
	return newToolSet([]string{
		"gcc", "g++", "cc", "c++", "cpp", "c89", "c99", "clang", "clang++", "tcc", "musl-gcc", "gfortran", "gccgo",
		"ld", "ld.bfd", "ld.gold", "ld.lld", "lld", "as", "nasm", "yasm",
		"make", "gmake", "cmake", "ninja", "meson", "autoconf", "automake", "libtool", "bazel",
		"go", "rustc", "zig", "javac", "mvn", "gradle", "ant",
	}, nil, true)
}

// BuildTool reports compilers and build tools reachable from PATH.
func BuildTool() Check {
	return &toolCheck{
		meta: Meta{
			ID:       "IA-BUILD-TOOL",
			Title:    "Build tool available",
			Category: CategoryBuildTool,
			Severity: Low,
			Rationale: "A compiler lets an attacker build exploits and tools inside the container instead of downloading them; " +
				"build toolchains also bring a large vulnerable surface the application does not need at runtime.",
			Fix:         "Build in a separate stage; copy only the artifacts.",
			Remediation: "Build in a separate stage and copy only the artifacts into the final image (multi-stage build).",
			Notes:       "Cross-compilers named with a GNU target triplet (x86_64-linux-gnu-gcc-12) count.",
		},
		tools: buildTools(),
	}
}
