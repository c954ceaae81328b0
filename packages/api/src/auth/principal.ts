/** Who is calling, once a bearer token has been verified. */
export type Principal =
  | { kind: "master" }
  | {
      kind: "cell";
      cell: string;
      sub: string;
      privileges: readonly string[];
      /** Scope entries when the token carries a `scope` claim, else null (unrestricted). */
      scope: readonly string[] | null;
    };
