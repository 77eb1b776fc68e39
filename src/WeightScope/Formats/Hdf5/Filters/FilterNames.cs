namespace WeightScope.Formats.Hdf5.Filters;

/// <summary>
/// Names of filter ids for messages: the predefined ids of the specification (§IV.A.2.l) and the ids registered with
/// the HDF Group (https://github.com/HDFGroup/hdf5_plugins/blob/master/docs/RegisteredFilterPlugins.md), used when a
/// file's pipeline message records no name (version 2 omits names of ids below 256, and writers may omit any).
/// </summary>
internal static class FilterNames
{
    private static readonly Dictionary<int, string> Registered = new()
    {
        [1] = "deflate", [2] = "shuffle", [3] = "fletcher32", [4] = "szip", [5] = "nbit", [6] = "scaleoffset",
        [305] = "LZO", [307] = "bzip2", [32000] = "LZF", [32001] = "blosc", [32002] = "MAFISC", [32003] = "snappy",
        [32004] = "LZ4", [32005] = "APAX", [32006] = "CBF", [32007] = "JPEG-XR", [32008] = "bitshuffle", [32009] = "SPDP",
        [32010] = "LPC-Rice", [32011] = "CCSDS-123", [32012] = "JPEG-LS", [32013] = "zfp", [32014] = "fpzip",
        [32015] = "zstd", [32016] = "B3D", [32017] = "SZ", [32018] = "FCIDECOMP", [32019] = "JPEG", [32020] = "VBZ",
        [32021] = "FAPEC", [32022] = "BitGroom", [32023] = "Granular BitRound", [32024] = "SZ3", [32025] = "Delta-Rice",
        [32026] = "blosc2", [32027] = "FLAC",
    };

    // The filters the hdf5plugin Python package (4.x and later) registers with h5py on `import hdf5plugin`.
    private static readonly HashSet<int> InHdf5Plugin = [307, 32001, 32004, 32008, 32013, 32015, 32017, 32018, 32024, 32026];

    /// <summary>The filter's name as the file records it, else its registered name, else null.</summary>
    public static string? NameOf(Filter filter) =>
        !string.IsNullOrWhiteSpace(filter.Name) ? filter.Name : Registered.GetValueOrDefault(filter.Id);

    /// <summary>"filter 32013 (zfp)": the id and, where known, the name (the registered one first when the file's differs).</summary>
    public static string Describe(Filter filter)
    {
        string? registered = Registered.GetValueOrDefault(filter.Id), recorded = string.IsNullOrWhiteSpace(filter.Name) ? null : filter.Name;
        if (registered is not null && recorded is not null && recorded != registered) return $"filter {filter.Id} ({registered}; the file names it \"{recorded}\")";
        return NameOf(filter) is { } name ? $"filter {filter.Id} ({name})" : $"filter {filter.Id}";
    }

    /// <summary>What the user can do about a filter this reader cannot undo.</summary>
    public static string Advice(Filter filter) => InHdf5Plugin.Contains(filter.Id)
        ? "h5py reads it after `import hdf5plugin`; to read it here, re-save the dataset with gzip (h5repack -f GZIP=4)"
        : "libhdf5 reads it only with that filter's plugin on HDF5_PLUGIN_PATH; to read it here, re-save the dataset with gzip (h5repack -f GZIP=4)";
}
