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

    /// <summary>Metadata type name of a dataset whose element type or shape could not be read (its state is the reason).</summary>
    public const string UnreadableDataset = "hdf5.unreadable";

    /// <summary>Metadata type name of a committed (named) datatype object; its one argument is numpy's spelling of the type.</summary>
    public const string CommittedDatatype = "hdf5.datatype";

    public static ModelFile Read(DetectionContext context, ReaderOptions options)
    {
        var mapped = context.File ?? throw new ArgumentException("hdf5 needs a file", nameof(context));
        try
        {
            var sb = Superblock.Superblock.Read(mapped);
            var file = new Hdf5File(mapped, sb.BaseAddress, sb.OffsetSize, sb.LengthSize, options.Limits) { SuperblockExtension = sb.ExtensionAddress };
            var tensors = new List<TensorEntry>();
            var metadata = new Dictionary<string, object?>();
            var walker = new Walker(file, tensors, metadata, new ExternalFileAccess(context.Path, options.AllowExternalPaths));
            walker.Visit(sb.RootObjectHeader, "", 0);
            var model = new ModelFile(new ModelFormatInfo(Hdf5Format.FormatName, $"superblock v{sb.Version}"),
                new TensorCollection(tensors), metadata: metadata, owned: [mapped], nameSeparator: '/');
            foreach (var p in walker.ExternalFiles) model.AddSourceFile(p);
            return model;
        }
        catch (EndOfDataException e)
        {
            throw Hdf5Errors.Invalid($"structure runs past the end of its block: {e.Message}", e.Offset);
        }
    }

    private sealed class Walker(Hdf5File file, List<TensorEntry> tensors, Dictionary<string, object?> metadata, ExternalFileAccess external)
    {
        private readonly HashSet<ulong> _visited = [];
        private long _walked; // objects read plus links examined: bounded by MaxHdf5Objects

        /// <summary>External data files that resolve and exist (what the model was read from, besides the HDF5 file).</summary>
        public List<string> ExternalFiles { get; } = [];

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
            if (obj.IsCommittedDatatype)
            {
                // h5py's visititems visits it as a Datatype object: not a tensor; described in metadata like a dataset that is not one.
                metadata[MetadataKey(path)] = obj.Type is { } t
                    ? new Modules.OpaqueObject(CommittedDatatype, [t.NumpyCode()], null)
                    : new Modules.OpaqueObject(UnreadableDataset, [], obj.DatasetFailure?.Message);
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

        // Under the path, or under the absolute path when a root attribute already has that bare name.
        private string MetadataKey(string path) => metadata.ContainsKey(path) ? "/" + path : path;

        private void AddDataset(Hdf5Object obj)
        {
            if (obj.Type is not { } type || obj.Space is not { } space)
            {
                // Without its element type or shape the dataset cannot be listed as a tensor: it is kept in metadata
                // with the reason, rather than silently dropped or failing the whole file.
                metadata[MetadataKey(obj.Path)] = new Modules.OpaqueObject(UnreadableDataset, [], obj.DatasetFailure!.Message);
                return;
            }
            var dims = space.IsNull ? [0L] : space.Dims;
            long elements = ElementCount(dims, obj);
            var dtype = type.ToDType();
            if (dtype is null)
            {
                // Not a tensor (h5py gives strings, compounds, references, vlen sequences): metadata.
                metadata[MetadataKey(obj.Path)] = NonNumeric(obj, type, space, dims, elements);
                return;
            }
            var shape = new Shape(dims);
            int itemSize = dtype.Value.ItemSize();
            if (elements > long.MaxValue / itemSize)
                throw Hdf5Errors.Invalid($"dataspace dimensions [{string.Join(", ", dims)}] of {itemSize}-byte elements need more than 2^63 bytes; no file can hold them (the dataspace message is corrupt)", obj.Offset, obj.Path);
            long bytes = elements * itemSize;
            var storage = Datatypes.BitLayout.Apply(DatasetStorage.Create(file, obj, dims, itemSize, bytes, external), type, bytes, obj.Offset, obj.Path);
            NoteExternalFiles(obj);
            bool bigEndian = type.BigEndian && itemSize > 1;
            if (tensors.Count >= file.Limits.MaxTensorCount)
                throw new ReaderLimitException(Hdf5Format.FormatName, nameof(ReaderLimits.MaxTensorCount), tensors.Count + 1, file.Limits.MaxTensorCount, null, obj.Path);
            tensors.Add(new TensorEntry(obj.Path, dtype.Value, shape, storage, 0, shape.ContiguousStrides(), TensorRole.Other, bigEndian));
        }

        private void NoteExternalFiles(Hdf5Object obj)
        {
            foreach (var segment in obj.ExternalFiles ?? [])
                if (external.TryResolve(segment, out _) is { } full && File.Exists(full) && !ExternalFiles.Contains(full))
                    ExternalFiles.Add(full);
        }

        // A dataspace may claim any dimensions; their product must at least fit in 64 bits before anything is sized by
        // it. One that does not is a corrupt header with no shape a tensor could have: the file is refused.
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

        // Strings (fixed or variable length) are read now, like attributes, when small; other types are described. A
        // string dataset whose values cannot be read is described too, with the reason as its state.
        private object? NonNumeric(Hdf5Object obj, Datatypes.Datatype type, Dataspace.Dataspace space, long[] dims, long elements)
        {
            bool isString = type.Class == Datatypes.DatatypeClass.String || type.IsVlenString;
            var description = new Modules.OpaqueObject("hdf5." + type.NumpyCode(), [dims.Cast<object?>().ToArray()], null);
            long bytes = checked(elements * Math.Max(type.Size, 1));
            if (!isString || bytes > MaxStringDatasetBytes) return description;
            try
            {
                var storage = DatasetStorage.Create(file, obj, dims, type.Size, bytes, external);
                var data = new byte[bytes];
                storage.Read(0, data);
                long at = obj.Layout is { Class: LayoutClass.Contiguous } l && !file.IsUndefined(l.Address) ? file.BaseAddress + (long)l.Address : obj.Offset;
                return AttributeValues.Convert(type, space, data, at, file, obj.Path);
            }
            catch (ModelFormatException e)
            {
                return description with { State = e.Message };
            }
        }
    }
}
