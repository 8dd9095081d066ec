/** A position in a source file (1-based line and column; offset in UTF-16 code units). */
export interface Span {
  file: string;
  line: number;
  column: number;
  offset: number;
  /** End offset (exclusive). */
  end: number;
  /** The text of the line, for excerpts with a caret. */
  lineText?: string;
}

/**
 * Error kinds use Nickel's own names (those of its test suite), e.g. 'EvalError::BlameError',
 * 'EvalError::FieldMissing', 'ParseError', 'ImportError::IoError', 'TypecheckError::UnboundIdentifier'.
 */
export type NickelErrorKind = string;

export interface NickelErrorDetails {
  /** Full path of the field being evaluated or checked, e.g. ['servers', '2', 'spec', 'disk_gb']. */
  fieldPath?: string[];
  span?: Span;
  /** Where the broken contract was attached. */
  contractSpan?: Span;
  /** The contract's name or doc, when known (e.g. 'std.number.PosNat', 'Number'). */
  contract?: string;
  /** The message without the contract and path (they are shown on their own lines). */
  title?: string;
  /** A short rendering of the offending value. */
  value?: string;
  /** The documentation of the field whose contract was broken. */
  doc?: string;
  notes?: string[];
  /** Kind-specific expectation fields of Nickel's test suite: field, identifier, ident, var... */
  field?: string;
  identifier?: string;
  ident?: string;
  var?: string;
}

export class NickelError extends Error {
  readonly kind: NickelErrorKind;
  readonly fieldPath: string[];
  readonly span: Span | undefined;
  readonly contractSpan: Span | undefined;
  readonly contract: string | undefined;
  readonly value: string | undefined;
  readonly title: string;
  readonly doc: string | undefined;
  readonly notes: string[];
  readonly field: string | undefined;
  readonly identifier: string | undefined;
  readonly ident: string | undefined;
  readonly var: string | undefined;

  constructor(kind: NickelErrorKind, message: string, details: NickelErrorDetails = {}) {
    super(message);
    this.name = 'NickelError';
    this.kind = kind;
    this.fieldPath = details.fieldPath ?? [];
    this.span = details.span;
    this.contractSpan = details.contractSpan;
    this.contract = details.contract;
    this.value = details.value;
    this.title = details.title ?? message;
    this.doc = details.doc;
    this.notes = details.notes ?? [];
    this.field = details.field;
    this.identifier = details.identifier;
    this.ident = details.ident;
    this.var = details.var;
  }
}
