import { describe, expect, it } from "vitest";
import { checkAttributes, decodeData, encodeText, formatBytes, parseSubjects } from "./encoding";

describe("message data", () => {
  it("encodes text as base64 of its UTF-8 bytes", () => {
    expect(encodeText("hello")).toBe("aGVsbG8=");
    expect(encodeText("")).toBe("");
    // non-ASCII goes through UTF-8, not Latin-1 (btoa alone would throw on this)
    expect(encodeText("naïve ✓")).toBe("bmHDr3ZlIOKckw==");
  });

  it("decodes what it encodes, with the size in bytes", () => {
    for (const text of ["hello", "", "naïve ✓", "line\nbreak", "😀"]) {
      const decoded = decodeData(encodeText(text));
      expect(decoded.text).toBe(text);
      expect(decoded.size).toBe(new TextEncoder().encode(text).length);
    }
  });

  it("says binary when the bytes are not UTF-8, and never throws on bad base64", () => {
    expect(decodeData("/w==")).toEqual({ text: null, size: 1, base64: "/w==" });
    expect(decodeData("not base64!")).toEqual({ text: null, size: 0, base64: "not base64!" });
  });
});

describe("attribute rows", () => {
  it("keeps filled rows, trims keys, leaves blank rows out", () => {
    expect(
      checkAttributes([
        { key: " type ", value: "alert " },
        { key: "", value: "" },
        { key: "site", value: "" },
      ]),
    ).toEqual({ attributes: [{ key: "type", value: "alert " }, { key: "site", value: "" }], problems: {} });
  });

  it("names the rows that cannot be sent", () => {
    const checked = checkAttributes([
      { key: "a", value: "1" },
      { key: "  ", value: "orphan" },
      { key: "a", value: "2" },
    ]);
    expect(checked.attributes).toEqual([{ key: "a", value: "1" }]);
    expect(checked.problems[1]).toMatch(/needs a key/);
    expect(checked.problems[2]).toMatch(/given twice/);
    expect(checked.problems[0]).toBeUndefined();
  });
});

describe("subjects and sizes", () => {
  it("splits lines and commas, trims, drops blanks and repeats", () => {
    expect(parseSubjects("a@x\n b@x , \n\na@x,c")).toEqual(["a@x", "b@x", "c"]);
    expect(parseSubjects("  ")).toEqual([]);
  });

  it("says bytes in binary units", () => {
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(1023)).toBe("1023 B");
    expect(formatBytes(1536)).toBe("1.5 KiB");
    expect(formatBytes(5 * 1024 * 1024)).toBe("5.0 MiB");
  });
});
