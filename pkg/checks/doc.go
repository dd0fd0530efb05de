// Package checks is imgaudit's hardening check catalogue: for one image, an
// exact inventory of what an attacker who lands in the container could use
// (shells, package managers, network and permission tools, setuid files,
// credentials, a root user, ...) and how to remove it.
//
// A check is a small value implementing [Check]: its [Meta] (ID, title,
// category, default severity, rationale, remediation and the files whose
// contents it needs) and a Run method returning [Finding]s. [All] is the one
// explicit table of checks; [Captures] tells the layer scanner which file
// contents to keep; [Run] runs checks against an [Image] and sorts what they
// find. Checks never read layers: they look at the squashed filesystem
// ([layers.FS]) and the image config, through views an [Image] computes once
// (the PATH tool index, /etc/passwd, os-release, package databases).
//
// [ResolveUser] and [ClassifyBase] compute the image-level facts a report
// shows next to the findings; [WriteMarkdown] renders the catalogue
// (docs/checks.md is generated from it).
package checks
