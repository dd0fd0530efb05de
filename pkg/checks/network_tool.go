package checks

// networkTools lists the commands that download files, open connections,
// scan or reconfigure the network. Busybox network applets have the same
// names.
func networkTools() *toolSet {
	return newToolSet([]string{
		"curl", "wget", "wget2", "aria2c", "axel", "lynx", "links", "elinks", "w3m",
		"nc", "netcat", "ncat", "nc.openbsd", "nc.traditional", "socat",
		"ssh", "scp", "sftp", "slogin", "ssh-keyscan", "sshpass", "dbclient", "mosh",
		"telnet", "ftp", "tftp", "lftp", "ncftp", "ftpget", "ftpput", "rsync", "rsh", "rlogin", "rcp", "smbclient",
		"nmap", "masscan", "zmap", "pscan", "ping", "arping", "fping", "hping", "traceroute", "tracepath", "mtr",
		"ip", "ipaddr", "iplink", "iproute", "iprule", "iptunnel", "ipneigh", "ifconfig", "route", "netstat", "ss", "arp",
		"iptables", "ip6tables", "nft", "ethtool", "nameif", "ifup", "ifdown", "ether-wake", "brctl", "vconfig", "tunctl",
		"dig", "nslookup", "host", "drill", "delv", "kdig", "whois",
		"udhcpc", "udhcpd", "dhclient", "nbd-client", "ssl_client",
		"telnetd", "ftpd", "tftpd", "inetd", "tcpsvd", "udpsvd", "dnsd", "fakeidentd",
	}, nil, false)
}

// NetworkTool reports network tools reachable from PATH.
func NetworkTool() Check {
	return &toolCheck{
		meta: Meta{
			ID:       "IA-NETWORK-TOOL",
			Title:    "Network tool available",
			Category: CategoryNetworkTool,
			Severity: Medium,
			Rationale: "Download and connection tools are how an attacker fetches a second-stage payload, exfiltrates data, " +
				"opens a reverse shell or scans the cluster network from inside the pod.",
			Fix: "Remove it; fetch build inputs in a build stage.",
			Remediation: "Remove the tool from the final image (fetch build inputs in a build stage instead); " +
				"for health checks, use the application's own endpoint or a small static probe binary.",
			Notes: "Busybox applet links (wget, nc, ping ...) count under this category on the busybox binary. " +
				"Web servers that are the application (httpd, nginx) are not tools.",
		},
		tools: networkTools(),
	}
}
