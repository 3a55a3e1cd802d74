// apache-md5 ships no types: (password, salt or stored hash) → `$apr1$salt$hash` (or `$1$…` for a `$1$` salt).
declare module 'apache-md5' {
  function md5(password: string, salt?: string): string;
  export default md5;
}
