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

        public void Visit(ulong address, string path, int depth)
        {
            if (depth > file.Limits.MaxNestingDepth) throw new ReaderLimitException(Hdf5Format.FormatName, nameof(ReaderLimits.MaxNestingDepth), depth, file.Limits.MaxNestingDepth, null, path);
            _visited.Add(address);
            var obj = Hdf5Object.Read(file, address, path);
            var attributes = obj.DenseAttributes is { } da
                ? [.. obj.Attributes, .. DenseStorage.Attributes(file, da.Heap, da.NameIndex, da.At, path)]
                : obj.Attributes;
            foreach (var a in attributes.OrderBy(a => a.Name, StringComparer.Ordinal))
                metadata[path.Length == 0 ? a.Name : path + AttributeSeparator + a.Name] = AttributeValues.Convert(a, file, path);
            if (obj.IsDataset)
            {
                AddDataset(obj);
                return;
            }
            if (!obj.IsGroup) return;
            var links = obj.SymbolTable is { } st ? SymbolTableNode.ReadGroup(file, st.BTree, st.Heap, st.At, path)
                : obj.DenseLinks is { } dl ? DenseStorage.Links(file, dl.Heap, dl.NameIndex, dl.At, path)
                : obj.Links;
            foreach (var link in links.OrderBy(l => l.Name, StringComparer.Ordinal))
            {
                if (link.Target is not null || _visited.Contains(link.Address)) continue; // soft links and second hard links: h5py visits objects once
                if (tensors.Count >= file.Limits.MaxTensorCount || _visited.Count > file.Limits.MaxTensorCount)
                    throw new ReaderLimitException(Hdf5Format.FormatName, nameof(ReaderLimits.MaxTensorCount), _visited.Count, file.Limits.MaxTensorCount, null, path);
                Visit(link.Address, path.Length == 0 ? link.Name : path + "/" + link.Name, depth + 1);
            }
        }

        private void AddDataset(Hdf5Object obj)
        {
            var dtype = obj.Type!.ToDType();
            if (dtype is null) return; // strings, compounds, references: not tensors
            var dims = obj.Space!.IsNull ? [0L] : obj.Space.Dims;
            var shape = new Shape(dims);
            long bytes = checked(shape.ElementCount * dtype.Value.ItemSize());
            var storage = Storage(obj, dims, dtype.Value.ItemSize(), bytes);
            bool bigEndian = obj.Type.BigEndian && dtype.Value.ItemSize() > 1;
            tensors.Add(new TensorEntry(obj.Path, dtype.Value, shape, storage, 0, shape.ContiguousStrides(), TensorRole.Other, bigEndian));
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
                    if (bytes > Math.Min(file.Limits.MaxDecompressedBytes, Array.MaxLength))
                        throw new ReaderLimitException(Hdf5Format.FormatName, nameof(ReaderLimits.MaxDecompressedBytes), bytes, Math.Min(file.Limits.MaxDecompressedBytes, Array.MaxLength), obj.Offset, path);
                    var filters = obj.Filters;
                    var maxDims = obj.Space!.IsNull ? dims : obj.Space.MaxDims;
                    var fill = obj.Fill;
                    return new DecodedStorage(bytes, () => Decode(() => ChunkAssembler.Assemble(file, layout, filters, dims, maxDims, itemSize, bytes, fill, path), obj.Offset, path), path);
            }
        }

        // Decoding runs when a tensor is first read, outside the registry's translation: keep to the one exception family.
        private static byte[] Decode(Func<byte[]> decode, long at, string path)
        {
            try { return decode(); }
            catch (EndOfDataException e) { throw Hdf5Errors.Invalid($"chunk structure runs past the end of its block: {e.Message}", e.Offset, path); }
            catch (OverflowException) { throw Hdf5Errors.Invalid("a chunk size, offset or count is out of range", at, path); }
            catch (ArgumentException e) { throw Hdf5Errors.Invalid($"chunk data is inconsistent: {e.Message}", at, path); }
        }

        private TensorStorage Unwritten(long bytes, int itemSize, byte[]? fill, string path, long at)
        {
            if (bytes > Math.Min(file.Limits.MaxDecompressedBytes, Array.MaxLength))
                throw new ReaderLimitException(Hdf5Format.FormatName, nameof(ReaderLimits.MaxDecompressedBytes), bytes, Math.Min(file.Limits.MaxDecompressedBytes, Array.MaxLength), at, path);
            return new DecodedStorage(bytes, () =>
            {
                var data = new byte[bytes];
                FillValue.Apply(data, fill?.Length == itemSize ? fill : null);
                return data;
            }, path);
        }
    }
}
