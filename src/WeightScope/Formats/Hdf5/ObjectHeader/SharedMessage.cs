using WeightScope.IO;

namespace WeightScope.Formats.Hdf5.ObjectHeader;

/// <summary>
/// Shared messages (specification §IV.A.2, "shared message" encodings; libhdf5 H5Oshared.c): a header message whose
/// shared flag is set, or an attribute's datatype or dataspace marked shared, holds not the message but where it is —
/// another object header (a committed datatype, h5py's <c>f['t'] = np.dtype('f4')</c>) or the file's shared message
/// heap (<see cref="SharedMessageTable"/>, written when <c>H5Pset_shared_mesg_nindexes</c> is set). Resolving gives a
/// reader over the actual message body.
/// </summary>
internal static class SharedMessage
{
    // Encoding versions: 1 (libhdf5 1.6) holds a whole symbol table entry, 2 an object header address, 3 either an
    // address or a heap ID, by its type byte.
    private const int Version1 = 1, Version2 = 2, Version3 = 3;
    private const int V1Reserved = 6;
    private const int TypeSharedHeap = 1;   // H5O_SHARE_TYPE_SOHM: a fractal heap ID in the shared message table
    private const int TypeCommitted = 2;    // H5O_SHARE_TYPE_COMMITTED: the message lives in another object header
    private const int HeapIdSize = 8;       // H5O_FHEAP_ID_LEN

    /// <summary>The body of header message <paramref name="m"/>, following its shared flag when set.</summary>
    public static SpanReader Body(Hdf5File file, HeaderMessage m, string path)
    {
        var r = new SpanReader(file.File.Span(m.Offset, m.Length), m.Offset);
        return (m.Flags & MessageType.FlagShared) == 0 ? r : Resolve(file, ref r, m.Type, path);
    }

    /// <summary>Reads a shared message encoding from <paramref name="r"/> and returns a reader over the message of type <paramref name="type"/> it names.</summary>
    public static SpanReader Resolve(Hdf5File file, scoped ref SpanReader r, int type, string path)
    {
        long at = r.Offset;
        int version = r.ReadByte();
        if (version is < Version1 or > Version3)
            throw Hdf5Errors.Unsupported($"shared {MessageType.Name(type)} message encoding version {version}", at, path);
        int kind = r.ReadByte();
        if (version == Version1)
        {
            r.ReadBytes(V1Reserved);
            file.ReadLength(ref r); // the symbol table entry's link name offset: unused
            return InHeader(file, file.ReadAddress(ref r), type, at, path);
        }
        if (version == Version3 && kind == TypeSharedHeap)
            return InSharedHeap(file, r.ReadBytes(HeapIdSize), type, at, path);
        if (version == Version3 && kind != TypeCommitted)
            throw Hdf5Errors.Invalid($"shared {MessageType.Name(type)} message of sharing type {kind}; expected {TypeSharedHeap} (shared message heap) or {TypeCommitted} (another object header)", at + 1, path);
        return InHeader(file, file.ReadAddress(ref r), type, at, path);
    }

    // A committed message: the first message of the same type in the object header at `address` (for a datatype, the
    // named datatype object's own definition). It is not shared itself; a chain would be a corrupt file.
    private static SpanReader InHeader(Hdf5File file, ulong address, int type, long at, string path)
    {
        if (file.IsUndefined(address)) throw Hdf5Errors.Invalid($"shared {MessageType.Name(type)} message names the undefined address", at, path);
        file.Resolve(address, 0, $"object header holding a shared {MessageType.Name(type)} message", at, path);
        foreach (var m in ObjectHeaderReader.Read(file, address, path))
        {
            if (m.Type != type) continue;
            if ((m.Flags & MessageType.FlagShared) != 0)
                throw Hdf5Errors.Invalid($"shared {MessageType.Name(type)} message at address {address} is itself shared (a chain of shared messages)", m.Offset, path);
            return new SpanReader(file.File.Span(m.Offset, m.Length), m.Offset);
        }
        throw Hdf5Errors.Invalid($"the object header at address {address}, named by a shared {MessageType.Name(type)} message, holds no {MessageType.Name(type)} message", at, path);
    }

    // A message in the shared message heap: the table's index for this message type names the fractal heap; the heap
    // object is the message itself. Errors inside it are reported at the shared message, the heap object has no offset.
    private static SpanReader InSharedHeap(Hdf5File file, ReadOnlySpan<byte> heapId, int type, long at, string path)
    {
        var heap = SharedMessageTable.Get(file, at, path).HeapFor(type, at, path);
        return new SpanReader(heap.Object(heapId, at), at);
    }
}
