using WeightScope.Formats.Hdf5.ObjectHeader;
using WeightScope.IO;
using WeightScope.Tensors;

namespace WeightScope.Formats.Hdf5.Layout;

/// <summary>
/// Where a dataset's bytes come from, decided when the file is opened: compact (in the header), contiguous (mapped),
/// never written (the fill value), chunked (decoded when read) or external files. Anything about the storage that
/// cannot be read — an unread message, a layout or index this reader does not handle, storage outside the file —
/// becomes an <see cref="UnreadableStorage"/>: the dataset is still listed and its reads fail with the reason.
/// </summary>
internal static class DatasetStorage
{
    /// <summary>The storage of dataset <paramref name="obj"/> of <paramref name="bytes"/> bytes (<paramref name="itemSize"/>-byte elements).</summary>
    public static TensorStorage Create(Hdf5File file, Hdf5Object obj, long[] dims, int itemSize, long bytes, ExternalFileAccess external)
    {
        try
        {
            if (obj.DatasetFailure is { } failure) return Unreadable(bytes, failure, file, obj.Path);
            return Build(file, obj, dims, itemSize, bytes, external);
        }
        catch (ModelFormatException e) { return Unreadable(bytes, e, file, obj.Path); }
        catch (EndOfDataException e) { return Unreadable(bytes, Hdf5Errors.Invalid($"storage structure runs past the end of its block: {e.Message}", e.Offset, obj.Path), file, obj.Path); }
        catch (OverflowException) { return Unreadable(bytes, Hdf5Errors.Invalid("a storage size or address is out of range", obj.Offset, obj.Path), file, obj.Path); }
    }

    private static TensorStorage Build(Hdf5File file, Hdf5Object obj, long[] dims, int itemSize, long bytes, ExternalFileAccess external)
    {
        var layout = obj.Layout!;
        string path = obj.Path;
        var fill = obj.Fill?.Length == itemSize ? obj.Fill : null;
        if (obj.ExternalFiles is { } segments)
        {
            // libhdf5 allows external storage only for contiguous layouts (H5Pset_external).
            if (layout.Class != LayoutClass.Contiguous)
                throw Hdf5Errors.Unsupported($"external data files with a {layout.Class.ToString().ToLowerInvariant()} layout", obj.Offset, path);
            return ExternalStorage.Create(bytes, segments, external, obj.Offset, path);
        }
        switch (layout.Class)
        {
            case LayoutClass.Compact:
                if (layout.CompactSize < bytes) throw Hdf5Errors.Invalid($"compact data has {layout.CompactSize} bytes, the dataset needs {bytes}", layout.CompactOffset, path);
                return new ArrayStorage(file.File.Span(layout.CompactOffset, (int)bytes).ToArray(), path);
            case LayoutClass.Contiguous:
                if (file.IsUndefined(layout.Address)) return new FillStorage(bytes, fill, path);
                if (layout.Size != ulong.MaxValue && layout.Size < (ulong)bytes)
                    throw Hdf5Errors.Invalid($"contiguous data has {layout.Size} bytes, the dataset needs {bytes}", obj.Offset, path);
                return new MappedStorage(file.File, file.Resolve(layout.Address, bytes, "dataset data", obj.Offset, path), bytes, path);
            case LayoutClass.Chunked:
                var maxDims = obj.Space!.IsNull ? dims : obj.Space.MaxDims;
                return new ChunkedStorage(new ChunkedDataset(file, layout, obj.Filters, dims, maxDims, itemSize, fill, obj.Offset, path), path);
            default:
                throw Hdf5Errors.Unsupported($"{layout.Class.ToString().ToLowerInvariant()} data layout", obj.Offset, path);
        }
    }

    private static UnreadableStorage Unreadable(long bytes, ModelFormatException reason, Hdf5File file, string path)
    {
        reason.FilePath ??= file.File.Path;
        return new UnreadableStorage(bytes, reason, path);
    }
}
