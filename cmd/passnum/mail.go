package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"passnum/mail"
)

// mailOptions are how a command sends email.
type mailOptions struct {
	url, from string
	timeout   time.Duration
}

func (o *mailOptions) bind(fs *pflag.FlagSet) {
	optSMTPURL.bind(fs, &o.url)
	optMailFrom.bind(fs, &o.from)
	optSMTPTimeout.bind(fs, &o.timeout)
}

// mailer is the SMTP sender the options name or, without an SMTP URL, the
// operator's outbox on the command's output.
func (a *app) mailer(o mailOptions) (mail.Sender, error) {
	return mail.FromConfig(mail.Config{URL: o.url, Password: a.cfg.SMTPPassword, From: o.from, Timeout: o.timeout}, a.out)
}

func (a *app) mailCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "mail", Short: "Email settings"}
	var o mailOptions
	var to string
	test := &cobra.Command{
		Use:   "test --to ADDRESS",
		Short: "Send a test email (in French) with the SMTP settings, to check them",
		Long: "test sends one short French email to ADDRESS through the SMTP server of --smtp-url, as\n" +
			"invitations and password resets will be sent; an error names the server, what it refused and\n" +
			"what to check. Without --smtp-url, the email is printed here, as every email then is.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if to == "" {
				return errors.New("--to: give the address to send the test email to, such as --to prenom.nom@exemple.fr")
			}
			sender, err := a.mailer(o)
			if err != nil {
				return err
			}
			m, err := mail.Test{To: to, Date: a.now()}.Message()
			if err != nil {
				return err
			}
			if err := sender.Send(cmd.Context(), m); err != nil {
				return err
			}
			if o.url != "" {
				fmt.Fprintf(a.out, "sent a test email to %s through %s\n", to, o.url)
			}
			return nil
		},
	}
	o.bind(test.Flags())
	test.Flags().StringVar(&to, "to", "", "the address to send the test email to")
	cmd.AddCommand(test)
	return cmd
}
