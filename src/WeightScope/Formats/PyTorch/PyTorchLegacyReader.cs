using System.Buffers.Binary;
using System.Numerics;
using WeightScope.Formats.PyTorch.Pickle;
using WeightScope.IO;
using WeightScope.Tensors;

namespace WeightScope.Formats.PyTorch;

/// <summary>
/// Reads the legacy format in the order torch/serialization.py <c>_legacy_load</c> does: magic number, protocol
/// version, sys_info, the object (persistent ids <c>('storage', storage_type, root_key, location, numel, view_metadata)</c>
/// and <c>('module', class, source_file, source)</c>), the storage keys, then per key an int64 element count and the
/// bytes, which are mapped in place (zero-copy).
/// </summary>
internal static class PyTorchLegacyReader
{
    private const string Format = PyTorchLegacyFormat.FormatName;
    private const long ProtocolVersion = 1001;
    private const int StorageHeaderSize = 8; // int64 element count before each storage's bytes

    public static ModelFile Read(MappedFile file, ReaderLimits limits)
    {
        var errors = new PickleErrors(Format, null);
        var resolver = TorchGlobals.CreateResolver();
        var storages = new Dictionary<string, TorchStorageRef>(StringComparer.Ordinal);
        long position = 0;

        object? Next(Unpickler u)
        {
            var span = file.Span(position, (int)Math.Min(file.Length - position, int.MaxValue));
            var value = u.Load(span, position, out int used);
            position += used;
            return value;
        }

        long at = position;
        var magic = Next(new Unpickler(resolver, limits, errors));
        if (magic is not BigInteger m || m != PyTorchLegacyFormat.MagicNumber) throw PyTorchErrors.BadMagic(magic, at);
        at = position;
        var protocol = Next(new Unpickler(resolver, limits, errors));
        if (protocol is not long p || p != ProtocolVersion) throw PyTorchErrors.BadProtocol(protocol, at);
        var sysInfo = Next(new Unpickler(resolver, limits, errors)) as PyDict;

        var main = new Unpickler(resolver, limits, errors, (pid, offset) => PersistentLoad(pid, offset, storages, errors));
        var root = Next(main);

        at = position;
        if (Next(new Unpickler(resolver, limits, errors)) is not PyList keys)
            throw errors.Invalid("expected the pickled list of storage keys after the object", at);

        // The storage section: per key, int64 numel then numel × element size bytes, in the order of the key list.
        foreach (var k in keys)
        {
            string key = k as string ?? throw errors.Invalid($"storage key list holds {PickleErrors.Describe(k)}, not a str", at);
            if (!storages.TryGetValue(key, out var s))
                throw errors.Invalid($"storage key '{key}' is listed but no tensor in the pickle uses it", at);
            if (!file.Contains(position, StorageHeaderSize))
                throw errors.Invalid($"file ends before storage '{key}' (the storage section is truncated)", position);
            long numel = BinaryPrimitives.ReadInt64LittleEndian(file.Span(position, StorageHeaderSize));
            if (numel != s.Numel)
                throw errors.Invalid($"storage '{key}' has {numel} elements in the storage section but {s.Numel} in its persistent id", position);
            long bytes;
            try { bytes = checked(numel * s.Type.ItemSize); }
            catch (OverflowException) { throw errors.Invalid($"storage '{key}' declares {numel} elements, too many to address", position); }
            long data = position + StorageHeaderSize;
            if (!file.Contains(data, bytes))
                throw errors.Invalid($"storage '{key}' needs {bytes} bytes at {data} but the file has {file.Length - data} left (truncated)", position);
            s.Bytes = new MappedStorage(file, data, bytes, key);
            position = data + bytes;
        }

        var mapper = new TorchObjectMapper(Format, limits, EagerModuleSchema.Instance, bigEndian: false, null);
        mapper.Map(root);
        string version = $"protocol 1001, pickle protocol {main.Protocol}"
                         + (sysInfo is not null && sysInfo.TryGetValue("little_endian", out var le) && le is false ? ", written big-endian" : "");
        return new ModelFile(new ModelFormatInfo(Format, version), new TensorCollection(mapper.Tensors), mapper.Root, mapper.Metadata, [file]);
    }

    // Storage bytes are always little-endian in this format: THPStorage_writeFileRaw swaps on big-endian machines.
    private static object? PersistentLoad(object? pid, long at, Dictionary<string, TorchStorageRef> storages, PickleErrors errors)
    {
        if (pid is not PyTuple { Count: > 0 } t)
            throw errors.Invalid($"persistent id should be a tuple but is {PickleErrors.Describe(pid)}", at);
        string? kind = t[0] as string ?? (t[0] is byte[] b ? System.Text.Encoding.ASCII.GetString(b) : null);
        switch (kind)
        {
            case "module" when t.Count == 4:
                return t[1]; // the module's class (its source, t[3], is only used by torch to warn about changes)
            case "storage" when t.Count == 6:
                {
                    var type = t[1] switch
                    {
                        TorchStorageType s => s,
                        PyGlobal g => throw errors.Unsupported($"storage class {g.FullName}", at),
                        var other => throw errors.Invalid($"persistent id storage_type is {PickleErrors.Describe(other)}", at),
                    };
                    if (t[2] is not string key) throw errors.Invalid($"persistent id root_key is {PickleErrors.Describe(t[2])}", at);
                    string location = t[3] as string ?? "cpu";
                    if (t[4] is not long numel || numel < 0) throw errors.Invalid($"persistent id numel is {PickleErrors.Describe(t[4])}", at);
                    if (!storages.TryGetValue(key, out var root))
                        storages[key] = root = new TorchStorageRef(key, type, location, numel, at);
                    if (t[5] is null) return root;
                    // view_metadata = (view_key, offset, view_size): a slice of the root storage, in elements.
                    if (t[5] is not PyTuple { Count: 3 } view || view[0] is not string viewKey || view[1] is not long offset || view[2] is not long size
                        || offset < 0 || size < 0 || offset > root.Numel || size > root.Numel - offset)
                        throw errors.Invalid($"storage view metadata {PickleErrors.Describe(t[5])} does not describe a slice of storage '{key}' ({root.Numel} elements)", at);
                    if (storages.TryGetValue(viewKey, out var existing)) return existing;
                    var v = new TorchStorageRef(viewKey, root.Type, location, size, at) { ViewOf = root, ViewOffset = offset };
                    storages[viewKey] = v;
                    return v;
                }
            default:
                throw errors.Invalid($"persistent id should be ('storage', …) or ('module', …) but is {PickleErrors.Describe(t[0])} with {t.Count} items", at);
        }
    }
}
