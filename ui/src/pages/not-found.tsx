import { Link } from 'react-router';

export function NotFound() {
  return (
    <section>
      <h1>Page not found</h1>
      <p>There is no page at this address. <Link to="/">Go to the overview</Link>.</p>
    </section>
  );
}
