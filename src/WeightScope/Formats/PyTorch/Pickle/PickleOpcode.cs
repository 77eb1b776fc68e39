namespace WeightScope.Formats.PyTorch.Pickle;

/// <summary>
/// Every opcode of the pickle virtual machine, protocols 0–5, with its byte, in the order of CPython's
/// <c>Lib/pickletools.py</c> opcode table. The comment after each gives the protocol that introduced it and its argument.
/// </summary>
internal enum PickleOpcode : byte
{
    // --- integers
    /// <summary>'I' (0): decimal integer line; "00"/"01" are False/True.</summary>
    Int = (byte)'I',
    /// <summary>'J' (1): signed 4-byte little-endian integer.</summary>
    BinInt = (byte)'J',
    /// <summary>'K' (1): unsigned 1-byte integer.</summary>
    BinInt1 = (byte)'K',
    /// <summary>'M' (1): unsigned 2-byte little-endian integer.</summary>
    BinInt2 = (byte)'M',
    /// <summary>'L' (0): decimal long line, optional trailing 'L'.</summary>
    Long = (byte)'L',
    /// <summary>0x8a (2): 1-byte length, then a little-endian two's-complement integer.</summary>
    Long1 = 0x8a,
    /// <summary>0x8b (2): signed 4-byte length, then a little-endian two's-complement integer.</summary>
    Long4 = 0x8b,

    // --- strings and bytes
    /// <summary>'S' (0): quoted, escaped byte string line (Python 2 str).</summary>
    String = (byte)'S',
    /// <summary>'T' (1): signed 4-byte length, then bytes (Python 2 str).</summary>
    BinString = (byte)'T',
    /// <summary>'U' (1): 1-byte length, then bytes (Python 2 str).</summary>
    ShortBinString = (byte)'U',
    /// <summary>'B' (3): 4-byte length, then bytes.</summary>
    BinBytes = (byte)'B',
    /// <summary>'C' (3): 1-byte length, then bytes.</summary>
    ShortBinBytes = (byte)'C',
    /// <summary>0x8e (4): 8-byte length, then bytes.</summary>
    BinBytes8 = 0x8e,
    /// <summary>0x96 (5): 8-byte length, then a bytearray's bytes.</summary>
    ByteArray8 = 0x96,
    /// <summary>0x97 (5): take the next out-of-band buffer.</summary>
    NextBuffer = 0x97,
    /// <summary>0x98 (5): make the buffer on top of the stack read-only.</summary>
    ReadOnlyBuffer = 0x98,

    // --- constants
    /// <summary>'N' (0): None.</summary>
    None = (byte)'N',
    /// <summary>0x88 (2): True.</summary>
    NewTrue = 0x88,
    /// <summary>0x89 (2): False.</summary>
    NewFalse = 0x89,

    // --- unicode
    /// <summary>'V' (0): raw-unicode-escape line.</summary>
    Unicode = (byte)'V',
    /// <summary>0x8c (4): 1-byte length, then UTF-8.</summary>
    ShortBinUnicode = 0x8c,
    /// <summary>'X' (1): 4-byte length, then UTF-8.</summary>
    BinUnicode = (byte)'X',
    /// <summary>0x8d (4): 8-byte length, then UTF-8.</summary>
    BinUnicode8 = 0x8d,

    // --- floats
    /// <summary>'F' (0): float repr line.</summary>
    Float = (byte)'F',
    /// <summary>'G' (1): 8-byte big-endian IEEE double.</summary>
    BinFloat = (byte)'G',

    // --- lists
    /// <summary>']' (1): push an empty list.</summary>
    EmptyList = (byte)']',
    /// <summary>'a' (0): append the top to the list below it.</summary>
    Append = (byte)'a',
    /// <summary>'e' (1): extend the list below the mark with the items above it.</summary>
    Appends = (byte)'e',
    /// <summary>'l' (0): build a list from the items above the mark.</summary>
    List = (byte)'l',

    // --- tuples
    /// <summary>')' (1): push an empty tuple.</summary>
    EmptyTuple = (byte)')',
    /// <summary>'t' (0): build a tuple from the items above the mark.</summary>
    Tuple = (byte)'t',
    /// <summary>0x85 (2): 1-tuple from the top item.</summary>
    Tuple1 = 0x85,
    /// <summary>0x86 (2): 2-tuple from the top two items.</summary>
    Tuple2 = 0x86,
    /// <summary>0x87 (2): 3-tuple from the top three items.</summary>
    Tuple3 = 0x87,

    // --- dicts
    /// <summary>'}' (1): push an empty dict.</summary>
    EmptyDict = (byte)'}',
    /// <summary>'d' (0): build a dict from key/value pairs above the mark.</summary>
    Dict = (byte)'d',
    /// <summary>'s' (0): dict[key] = value.</summary>
    SetItem = (byte)'s',
    /// <summary>'u' (1): add the key/value pairs above the mark to the dict below it.</summary>
    SetItems = (byte)'u',

    // --- sets
    /// <summary>0x8f (4): push an empty set.</summary>
    EmptySet = 0x8f,
    /// <summary>0x90 (4): add the items above the mark to the set below it.</summary>
    AddItems = 0x90,
    /// <summary>0x91 (4): build a frozenset from the items above the mark.</summary>
    FrozenSet = 0x91,

    // --- stack manipulation
    /// <summary>'0' (0): discard the top item (or the topmost mark when the stack is empty).</summary>
    Pop = (byte)'0',
    /// <summary>'2' (0): duplicate the top item.</summary>
    Dup = (byte)'2',
    /// <summary>'(' (0): push a mark.</summary>
    Mark = (byte)'(',
    /// <summary>'1' (1): discard everything down to and including the topmost mark.</summary>
    PopMark = (byte)'1',

    // --- memo
    /// <summary>'g' (0): push memo[decimal line].</summary>
    Get = (byte)'g',
    /// <summary>'h' (1): push memo[1-byte index].</summary>
    BinGet = (byte)'h',
    /// <summary>'j' (1): push memo[4-byte index].</summary>
    LongBinGet = (byte)'j',
    /// <summary>'p' (0): memo[decimal line] = top.</summary>
    Put = (byte)'p',
    /// <summary>'q' (1): memo[1-byte index] = top.</summary>
    BinPut = (byte)'q',
    /// <summary>'r' (1): memo[4-byte index] = top.</summary>
    LongBinPut = (byte)'r',
    /// <summary>0x94 (4): memo[len(memo)] = top.</summary>
    Memoize = 0x94,

    // --- extension registry
    /// <summary>0x82 (2): push the global registered under a 1-byte extension code.</summary>
    Ext1 = 0x82,
    /// <summary>0x83 (2): 2-byte extension code.</summary>
    Ext2 = 0x83,
    /// <summary>0x84 (2): 4-byte extension code.</summary>
    Ext4 = 0x84,

    // --- globals and object building
    /// <summary>'c' (0): push the global named by two lines (module, name).</summary>
    Global = (byte)'c',
    /// <summary>0x93 (4): push the global named by the two strings on top of the stack.</summary>
    StackGlobal = 0x93,
    /// <summary>'R' (0): call the callable below the top with the argument tuple on top.</summary>
    Reduce = (byte)'R',
    /// <summary>'b' (0): set the state of the object below the top.</summary>
    Build = (byte)'b',
    /// <summary>'i' (0): instantiate the class named by two lines with the items above the mark.</summary>
    Inst = (byte)'i',
    /// <summary>'o' (1): instantiate the first item above the mark with the rest.</summary>
    Obj = (byte)'o',
    /// <summary>0x81 (2): cls.__new__(cls, *args).</summary>
    NewObj = 0x81,
    /// <summary>0x92 (4): cls.__new__(cls, *args, **kwargs).</summary>
    NewObjEx = 0x92,

    // --- machine control
    /// <summary>0x80 (2): protocol version byte.</summary>
    Proto = 0x80,
    /// <summary>'.' (0): end of pickle; the top item is the result.</summary>
    Stop = (byte)'.',
    /// <summary>0x95 (4): 8-byte frame length (a read-ahead hint; frames change nothing else).</summary>
    Frame = 0x95,

    // --- persistent ids
    /// <summary>'P' (0): persistent id from a line.</summary>
    PersId = (byte)'P',
    /// <summary>'Q' (1): persistent id from the top item.</summary>
    BinPersId = (byte)'Q',
}
