/** The Whereabouts mark (public/icon.svg, a copy of build/icon.svg). Decorative: the name is always beside it. */
export function Logo({ size }: { size: number }) {
  return <img className="logo" src="./icon.svg" width={size} height={size} alt="" />;
}
