// Package fetch resolves every way a user names a container image into
// [v1.Image] values ready to be audited. It is the only package of imgaudit
// that talks to a registry.
//
// [Open] accepts:
//
//   - registry references: "alpine", "registry.example.com:5000/team/app:1.2",
//     "repo@sha256:...", optionally prefixed with "docker://";
//   - "oci:DIR[:TAG|@DIGEST]": an OCI image layout directory;
//   - "oci-archive:FILE[:TAG|@DIGEST]": a tar file holding an OCI image layout;
//   - "docker-archive:FILE[:REPO:TAG]": the output of "docker save", in the
//     legacy format (<id>/layer.tar) or the newer one (OCI layout plus
//     manifest.json);
//   - a bare existing path: a directory holding an OCI layout, or a tar file
//     sniffed as a docker archive (it has manifest.json) or an OCI archive (it
//     has oci-layout and index.json).
//
// A prefix decides the form; without one, an existing path is read as a
// layout or an archive, and anything else as a registry reference. Write
// "docker://NAME" to force a registry reference that would otherwise be
// taken for a path or a prefix (a registry host called "oci", say).
//
// Archives are never extracted: their members are indexed once (headers only)
// and blobs are served as section readers over the file, so nothing is ever
// written to disk. Blobs read from local sources are checked against their
// digests as they are read.
//
// Indexes are resolved to one image per requested platform (see
// [WithPlatform], [WithAllPlatforms]); by default linux/amd64 is taken when
// present, otherwise the only or the first platform, and [Target.PlatformNote]
// says so.
//
// Every error returned by this package is a one-line [*Error] that wraps one
// of the sentinel errors (ErrNotFound, ErrUnauthorized, ...) usable with
// [errors.Is]. Errors of Open, Catalog and Tags name the reference; errors
// met later through a [Target]'s image (a blob download failing half way, a
// blob that does not match its digest) are classified where they happen and
// name none, since the caller knows which image and layer it was reading.
// Credentials, those given as options and those the keychain resolved, never
// appear in error messages. The package prints nothing.
package fetch
