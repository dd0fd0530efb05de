// Package layers reads container image layers as hostile tar streams and
// squashes them into the final filesystem a container would see.
//
// The flow is two steps:
//
//   - [Index] reads one layer blob exactly once, as a stream, and returns a
//     [LayerIndex]: every entry's metadata (path, type, mode, owner, size, link
//     target), the whiteouts and opaque directories of the layer, facts sniffed
//     from the first bytes of each regular file (ELF, shebang, private keys),
//     the contents of the few small files a caller declared it needs, and the
//     anomalies found (escaping names, links out of the root, ...). An index is
//     a pure function of the layer's uncompressed bytes and the [Options], so it
//     can be cached by diffID.
//   - [Squash] applies the indexes in order (OCI whiteout semantics, opaque
//     directories staged per layer, directory/file replacement, hardlinks,
//     writes through symlinked parents resolved inside the root) and returns an
//     [FS]: the final tree, where every entry knows the layer and history step
//     that put it there, plus the entries that lower layers still ship although
//     a later layer deleted or replaced them.
//
// Nothing here touches the network or the disk, and nothing from an image is
// ever executed. Memory grows with the number of entries, not with bytes.
package layers
