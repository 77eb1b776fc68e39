namespace WeightScope.Formats.Hdf5.ObjectHeader;

/// <summary>Header message types read by this reader (specification §IV.A.2).</summary>
internal static class MessageType
{
    public const int Nil = 0x0000;
    public const int Dataspace = 0x0001;
    public const int LinkInfo = 0x0002;
    public const int Datatype = 0x0003;
    public const int FillValueOld = 0x0004;
    public const int FillValue = 0x0005;
    public const int Link = 0x0006;
    public const int ExternalFileList = 0x0007;
    public const int DataLayout = 0x0008;
    public const int FilterPipeline = 0x000B;
    public const int Attribute = 0x000C;
    public const int SharedMessageTable = 0x000F;
    public const int Continuation = 0x0010;
    public const int SymbolTable = 0x0011;
    public const int AttributeInfo = 0x0015;

    /// <summary>Message flag: the body is a shared message (§IV.A.2, "Shared Messages") naming where the message is kept.</summary>
    public const int FlagShared = 0x02;

    /// <summary>A short name for messages ("datatype", "data layout").</summary>
    public static string Name(int type) => type switch
    {
        Dataspace => "dataspace",
        Datatype => "datatype",
        FillValueOld or FillValue => "fill value",
        ExternalFileList => "external data files",
        DataLayout => "data layout",
        FilterPipeline => "filter pipeline",
        Attribute => "attribute",
        _ => $"0x{type:x4}",
    };
}

/// <summary>One header message: its type and where its body lies in the file.</summary>
internal readonly record struct HeaderMessage(int Type, int Flags, long Offset, int Length);
