using WeightScope.Formats.Hdf5.Attributes;
using WeightScope.Formats.Hdf5.Groups;
using WeightScope.Formats.Hdf5.Layout;
using WeightScope.Formats.Hdf5.ObjectHeader;
using WeightScope.IO;
using WeightScope.Tensors;

namespace WeightScope.Formats.Hdf5;

/// <summary>
/// Maps an HDF5 file to the uniform model. Objects are visited as h5py's <c>visititems</c> visits them (H5Ovisit by
/// name, depth first, each object once); numeric datasets become tensors named by path, attributes become metadata
/// keyed by their bare name on the root group and <c>path@name</c> elsewhere.
/// </summary>
internal static class Hdf5Reader
{
    /// <summary>Separator between an object's path and an attribute name in metadata keys.</summary>
    public const char AttributeSeparator = '@';

    /// <summary>String datasets up to this size are read into metadata when the file is opened; larger ones are described.</summary>
    private const long MaxStringDatasetBytes = 16 << 20;

    public static ModelFile Read(DetectionContext context, ReaderOptions options)
    {
        var mapped = context.File ?? throw new ArgumentException("hdf5 needs a file", nameof(context));
        try
        {
            var sb = Superblock.Superblock.Read(mapped);
            var file = new Hdf5File(mapped, sb.BaseAddress, sb.OffsetSize, sb.LengthSize, options.Limits);
            var tensors = new List<TensorEntry>();
            var metadata = new Dictionary<string, object?>();
            var walker = new Walker(file, tensors, metadata);
            walker.Visit(sb.RootObjectHeader, "", 0);
            return new ModelFile(new ModelFormatInfo(Hdf5Format.FormatName, $"superblock v{sb.Version}"),
                new TensorCollection(tensors), metadata: metadata, owned: [mapped], nameSeparator: '/');
        }
        catch (EndOfDataException e)
        {
            throw Hdf5Errors.Invalid($"structure runs past the end of its block: {e.Message}", e.Offset);
        }
    }

    private sealed class Walker(Hdf5File file, List<TensorEntry> tensors, Dictionary<string, object?> metadata)
    {
        private readonly HashSet<ulong> _visited = [];
        private long _walked; // objects read plus links examined: bounded by MaxHdf5Objects

        private void Walk(long count, string path)
        {
            _walked += count;
            if (_walked > file.Limits.MaxHdf5Objects)
                throw new ReaderLimitException(Hdf5Format.FormatName, nameof(ReaderLimits.MaxHdf5Objects), _walked, file.Limits.MaxHdf5Objects, null, path.Length == 0 ? "/" : path);
        }

        public void Visit(ulong address, string path, int depth)
        {
            if (depth > file.Limits.MaxNestingDepth) throw new ReaderLimitException(Hdf5Format.FormatName, nameof(ReaderLimits.MaxNestingDepth), depth, file.Limits.MaxNestingDepth, null, path);
            Walk(1, path);
            _visited.Add(address);
            var obj = Hdf5Object.Read(file, address, path);
            var attributes = obj.DenseAttributes is { } da
                ? [.. obj.Attributes, .. DenseStorage.Attributes(file, da.Heap, da.NameIndex, da.At, path)]
                : obj.Attributes;
            foreach (var a in attributes.OrderBy(a => a.Name, StringComparer.Ordinal))
            {
                string key = path.Length == 0 ? a.Name : path + AttributeSeparator + a.Name;
                metadata[key] = AttributeValues.Convert(a, file, key); // errors name the attribute: path@name
            }
            if (obj.IsDataset)
            {
                AddDataset(obj);
                return;
            }
            if (!obj.IsGroup) return;
            var links = obj.SymbolTable is { } st ? SymbolTableNode.ReadGroup(file, st.BTree, st.Heap, st.At, path)
                : obj.DenseLinks is { } dl ? DenseStorage.Links(file, dl.Heap, dl.NameIndex, dl.At, path)
                : obj.Links;
            // Every link counts, soft and repeated ones too: a group of a million links to one dataset is still a million
            // links to look at.
            Walk(links.Count, path);
            foreach (var link in links.OrderBy(l => l.Name, StringComparer.Ordinal))
            {
                if (link.Target is not null || _visited.Contains(link.Address)) continue; // soft links and second hard links: h5py visits objects once
                Visit(link.Address, path.Length == 0 ? link.Name : path + "/" + link.Name, depth + 1);
            }
        }

        private void AddDataset(Hdf5Object obj)
        {
            var type = obj.Type!;
            var space = obj.Space!;
            var dims = space.IsNull ? [0L] : space.Dims;
            long elements = ElementCount(dims, obj);
            var dtype = type.ToDType();
            if (dtype is null)
            {
                // Not a tensor (h5py gives strings, compounds, references, vlen sequences): metadata under the path,
                // or under the absolute path when a root attribute already has that bare name.
                metadata[metadata.ContainsKey(obj.Path) ? "/" + obj.Path : obj.Path] = NonNumeric(obj, dims, elements);
                return;
            }
            var shape = new Shape(dims);
            int itemSize = dtype.Value.ItemSize();
            if (elements > long.MaxValue / itemSize)
                throw Hdf5Errors.Invalid($"dataspace dimensions [{string.Join(", ", dims)}] of {itemSize}-byte elements need more than 2^63 bytes; no file can hold them (the dataspace message is corrupt)", obj.Offset, obj.Path);
            long bytes = elements * itemSize;
            var storage = Datatypes.BitLayout.Apply(Storage(obj, dims, dtype.Value.ItemSize(), bytes), type, bytes, obj.Offset, obj.Path);
            bool bigEndian = type.BigEndian && dtype.Value.ItemSize() > 1;
            if (tensors.Count >= file.Limits.MaxTensorCount)
                throw new ReaderLimitException(Hdf5Format.FormatName, nameof(ReaderLimits.MaxTensorCount), tensors.Count + 1, file.Limits.MaxTensorCount, null, obj.Path);
            tensors.Add(new TensorEntry(obj.Path, dtype.Value, shape, storage, 0, shape.ContiguousStrides(), TensorRole.Other, bigEndian));
        }

        // A dataspace may claim any dimensions; their product must at least fit in 64 bits before anything is sized by it
        // (each storage class then checks the bytes against what the file holds, or against the decoding limit).
        private static long ElementCount(long[] dims, Hdf5Object obj)
        {
            long n = 1;
            foreach (var d in dims)
                if (d != 0 && n > long.MaxValue / d)
                    throw Hdf5Errors.Invalid($"dataspace dimensions [{string.Join(", ", dims)}] multiply past 2^63 elements; no file can hold them (the dataspace message is corrupt)", obj.Offset, obj.Path);
                else n *= d;
            foreach (var d in dims) if (d == 0) return 0;
            return n;
        }

        // Strings (fixed or variable length) are read now, like attributes, when small; other types are described.
        private object? NonNumeric(Hdf5Object obj, long[] dims, long elements)
        {
            var type = obj.Type!;
            bool isString = type.Class == Datatypes.DatatypeClass.String || type.IsVlenString;
            long bytes = checked(elements * Math.Max(type.Size, 1));
            if (!isString || bytes > MaxStringDatasetBytes)
                return new Modules.OpaqueObject("hdf5." + type.NumpyCode(), [dims.Cast<object?>().ToArray()], null);
            var storage = Storage(obj, dims, type.Size, bytes);
            var data = new byte[bytes];
            storage.Read(0, data);
            long at = obj.Layout!.Class == LayoutClass.Contiguous && !file.IsUndefined(obj.Layout.Address) ? file.BaseAddress + (long)obj.Layout.Address : obj.Offset;
            return AttributeValues.Convert(type, obj.Space!, data, at, file, obj.Path);
        }

        private TensorStorage Storage(Hdf5Object obj, long[] dims, int itemSize, long bytes)
        {
            var layout = obj.Layout!;
            string path = obj.Path;
            switch (layout.Class)
            {
                case LayoutClass.Compact:
                    if (layout.CompactSize < bytes) throw Hdf5Errors.Invalid($"compact data has {layout.CompactSize} bytes, the dataset needs {bytes}", layout.CompactOffset, path);
                    return new ArrayStorage(file.File.Span(layout.CompactOffset, (int)bytes).ToArray(), path);
                case LayoutClass.Contiguous:
                    if (file.IsUndefined(layout.Address)) return Unwritten(bytes, itemSize, obj.Fill, path, obj.Offset);
                    if (layout.Size != ulong.MaxValue && layout.Size < (ulong)bytes)
                        throw Hdf5Errors.Invalid($"contiguous data has {layout.Size} bytes, the dataset needs {bytes}", obj.Offset, path);
                    return new MappedStorage(file.File, file.Resolve(layout.Address, bytes, "dataset data", obj.Offset, path), bytes, path);
                default:
                    CheckDecoded(bytes, obj.Offset, path);
                    var filters = obj.Filters;
                    var maxDims = obj.Space!.IsNull ? dims : obj.Space.MaxDims;
                    var fill = obj.Fill;
                    long at = obj.Offset;
                    return new ChunkedStorage(bytes, output => Decode(output, file, layout, filters, dims, maxDims, itemSize, fill, at, path), path);
            }
        }

        // Decoding runs when a tensor is first read, outside the registry's translation: keep to the one exception family.
        private static void Decode(Span<byte> output, Hdf5File file, DataLayout layout, List<Filters.Filter> filters, long[] dims, long[] maxDims, int itemSize, byte[]? fill, long at, string path)
        {
            try { ChunkAssembler.AssembleInto(output, file, layout, filters, dims, maxDims, itemSize, fill, at, path); }
            catch (EndOfDataException e) { throw Hdf5Errors.Invalid($"chunk structure runs past the end of its block: {e.Message}", e.Offset, path); }
            catch (OverflowException) { throw Hdf5Errors.Invalid("a chunk size, offset or count is out of range", at, path); }
            catch (ArgumentException e) { throw Hdf5Errors.Invalid($"chunk data is inconsistent: {e.Message}", at, path); }
        }

        // Chunked and unwritten datasets are decoded into one array: bounded by the limit, which a flag raises, and by
        // the largest array .NET allocates, which nothing raises.
        private void CheckDecoded(long bytes, long? at, string path)
        {
            if (bytes > file.Limits.MaxDecompressedBytes)
                throw new ReaderLimitException(Hdf5Format.FormatName, nameof(ReaderLimits.MaxDecompressedBytes), bytes, file.Limits.MaxDecompressedBytes, at, path);
            if (bytes > Array.MaxLength)
                throw new UnsupportedModelFeatureException(Hdf5Format.FormatName, $"a chunked or unwritten dataset of {bytes} bytes, more than one array holds ({Array.MaxLength})", at, path);
        }

        private TensorStorage Unwritten(long bytes, int itemSize, byte[]? fill, string path, long at)
        {
            CheckDecoded(bytes, at, path);
            return new DecodedStorage(bytes, () =>
            {
                var data = new byte[bytes];
                FillValue.Apply(data, fill?.Length == itemSize ? fill : null);
                return data;
            }, path);
        }
    }
}
