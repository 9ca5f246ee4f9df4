/** A recognisable mark per connector type (simple inline SVG; a letter mark for unknown types). */
export function TypeIcon({ type, title, size = 40 }: { type: string; title: string; size?: number }) {
  const common = { width: size, height: size, viewBox: '0 0 40 40', 'aria-hidden': true, focusable: false } as const
  switch (type) {
    case 'kafka':
      return (
        <svg {...common}>
          <rect width="40" height="40" rx="9" fill="#231f20" />
          <g fill="none" stroke="#fff" strokeWidth="2.2">
            <circle cx="15" cy="10.5" r="3" />
            <circle cx="15" cy="20" r="3.6" />
            <circle cx="15" cy="29.5" r="3" />
            <circle cx="27" cy="14.5" r="3" />
            <circle cx="27" cy="25.5" r="3" />
            <path d="M15 13.5v2.9M15 23.6v2.9M18.3 18.6l5.9-2.7M18.3 21.4l5.9 2.7" />
          </g>
        </svg>
      )
    case 'postgresql':
      return (
        <svg {...common}>
          <rect width="40" height="40" rx="9" fill="#336791" />
          <g fill="none" stroke="#fff" strokeWidth="2.2">
            <ellipse cx="20" cy="12" rx="9" ry="3.5" />
            <path d="M11 12v16c0 1.9 4 3.5 9 3.5s9-1.6 9-3.5V12" />
            <path d="M11 20c0 1.9 4 3.5 9 3.5s9-1.6 9-3.5" />
          </g>
        </svg>
      )
    case 'mysql':
      return (
        <svg {...common}>
          <rect width="40" height="40" rx="9" fill="#00758f" />
          <g fill="none" stroke="#fff" strokeWidth="2.2">
            <ellipse cx="20" cy="12" rx="9" ry="3.5" />
            <path d="M11 12v16c0 1.9 4 3.5 9 3.5s9-1.6 9-3.5V12" />
          </g>
          <path d="M14 27v-8l3 5 3-5v8" fill="none" stroke="#f29111" strokeWidth="2" strokeLinejoin="round" />
        </svg>
      )
    case 'rabbitmq':
      return (
        <svg {...common}>
          <rect width="40" height="40" rx="9" fill="#ff6600" />
          <path fill="#fff" d="M10 9h5v10h3V9h5v10h7v12H10z" />
          <rect x="23" y="23" width="4" height="4" rx="0.5" fill="#ff6600" />
        </svg>
      )
    case 'mqtt':
      return (
        <svg {...common}>
          <rect width="40" height="40" rx="9" fill="#660066" />
          <g fill="none" stroke="#fff" strokeWidth="2.4" strokeLinecap="round">
            <circle cx="12" cy="28" r="2.2" fill="#fff" stroke="none" />
            <path d="M10 19.5a8.5 8.5 0 0 1 10.5 10.5" />
            <path d="M10 12.5a15.5 15.5 0 0 1 17.5 17.5" />
          </g>
        </svg>
      )
    case 'nats':
      return (
        <svg {...common}>
          <rect width="40" height="40" rx="9" fill="#27aae1" />
          <path d="M10 11h20v14H21l-6 5v-5h-5z" fill="#fff" />
          <path d="M15 22v-8l10 8v-8" fill="none" stroke="#27aae1" strokeWidth="2.2" strokeLinejoin="round" />
        </svg>
      )
    case 'redis':
      return (
        <svg {...common}>
          <rect width="40" height="40" rx="9" fill="#dc382d" />
          <g fill="none" stroke="#fff" strokeWidth="2.2" strokeLinejoin="round">
            <path d="M8 14l12-5 12 5-12 5z" />
            <path d="M8 20l12 5 12-5" />
            <path d="M8 26l12 5 12-5" />
          </g>
        </svg>
      )
    case 'http':
      // A globe: a request leaving for a server on the web.
      return (
        <svg {...common}>
          <rect width="40" height="40" rx="9" fill="#1f6feb" />
          <g fill="none" stroke="#fff" strokeWidth="2.2">
            <circle cx="20" cy="20" r="10" />
            <ellipse cx="20" cy="20" rx="4.2" ry="10" />
            <path d="M10.5 16.5h19M10.5 23.5h19" />
          </g>
        </svg>
      )
    default: {
      const letter = (title || type).charAt(0).toUpperCase()
      return (
        <svg {...common}>
          <rect width="40" height="40" rx="9" fill="#57606a" />
          <text x="20" y="26.5" textAnchor="middle" fontSize="18" fontWeight="700" fill="#fff" fontFamily="system-ui, sans-serif">
            {letter}
          </text>
        </svg>
      )
    }
  }
}
