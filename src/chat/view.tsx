// Paints rows (layout.ts) with ink: one <Text> per row, truncated, never re-wrapped by ink, so
// what is on screen is exactly what the pure layout computed.
import { Box, Text } from 'ink'
import type { ReactElement } from 'react'
import type { Row, Segment, Style } from './layout.js'

interface TextStyle { color?: string, bold?: boolean, dimColor?: boolean, inverse?: boolean }

const STYLES: Record<Style, TextStyle> = {
  plain: {},
  dim: { dimColor: true },
  me: { color: 'green', bold: true },
  them: { color: 'cyan', bold: true },
  mark: { color: 'gray' },
  read: { color: 'blue', bold: true },
  notice: { color: 'yellow' },
  error: { color: 'red' },
  online: { color: 'green', bold: true },
  away: { color: 'yellow' },
  connecting: { color: 'cyan' },
  offline: { color: 'gray' },
  title: { bold: true },
  cursor: { inverse: true }
}

function SegmentView ({ seg }: { seg: Segment }): ReactElement {
  return <Text {...STYLES[seg.style]}>{seg.text}</Text>
}

function RowView ({ row }: { row: Row }): ReactElement {
  if (row.length === 0) return <Text> </Text>
  return <Text wrap='truncate'>{row.map((seg, i) => <SegmentView key={i} seg={seg} />)}</Text>
}

export function Screen ({ rows }: { rows: readonly Row[] }): ReactElement {
  return (
    <Box flexDirection='column'>
      {rows.map((row, i) => <RowView key={i} row={row} />)}
    </Box>
  )
}
