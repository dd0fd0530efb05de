package checks

// All returns the catalogue: every check imgaudit runs, in documentation
// order. This is the one table of checks; there is no other registration.
func All() []Check {
	return []Check{
		RootUser(),
		UserUnknown(),
		UserName(),
		Shell(),
		PackageManager(),
		NetworkTool(),
		PermissionTool(),
		PrivilegeTool(),
		DebugTool(),
		BuildTool(),
		SSHServer(),
		Setuid(),
		Setgid(),
		FileCapability(),
		WorldWritable(),
		BaseImage(),
		SecretEnv(),
		SecretHistory(),
		SecretFile(),
		ShadowPassword(),
		Healthcheck(),
		PackageRecord(),
		PathEscape(),
		LayerAnomaly(),
	}
}

// ImageNeeds are the capture patterns of the files ResolveUser and
// ClassifyBase read, which a report needs whatever checks run.
func ImageNeeds() []string {
	return append(userNeeds(), baseNeeds()...)
}
